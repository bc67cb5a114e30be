// The HTTP API this package speaks, read from contract.json: docs/openapi.yaml
// is the contract, and docs/clients_test.go fails when contract.json drifts
// from it (routes, header names, error codes and their statuses).
import { createRequire } from 'node:module';

const contract = createRequire(import.meta.url)('./contract.json');

/** Routes of docs/openapi.yaml this client calls: operationId → [method, path]. */
export const ROUTES = Object.freeze(contract.routes);
export const HEADER_IDEMPOTENCY_KEY = contract.headers.idempotencyKey;
export const HEADER_ENCRYPTION_KEY = contract.headers.encryptionKey;
/** Every error code the API documents: code → HTTP status. */
export const ERROR_STATUS = Object.freeze(contract.errors);
