import { ERROR_STATUS } from './contract.js';

/**
 * An answer of the API other than 2xx. `code` is the API's error code
 * ("HookNotFound"; "" for an answer of API Gateway itself, such as a failed
 * authorization), `status` the HTTP status (for a direct Lambda invoke, the
 * status the API gives that code).
 */
export class SfnhooksError extends Error {
  constructor(message, { code = '', status = 0, details, retryAfterSeconds, body } = {}) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.status = status;
    if (details !== undefined) this.details = details;
    if (retryAfterSeconds !== undefined) this.retryAfterSeconds = retryAfterSeconds;
    if (body !== undefined) this.body = body;
  }
}

export class HookNotFoundError extends SfnhooksError {}
export class HookNotWaitingError extends SfnhooksError {}
export class InvalidTokenError extends SfnhooksError {}
export class InvalidPayloadError extends SfnhooksError {}
export class InvalidRequestError extends SfnhooksError {}
export class EncryptionKeyRefusedError extends SfnhooksError {}
export class NotSealedError extends SfnhooksError {}
export class WeakWebhookTokenError extends SfnhooksError {}
export class InvalidSignatureError extends SfnhooksError {}
export class SealedPayloadRefusedError extends SfnhooksError {}
export class MethodNotAllowedError extends SfnhooksError {}
export class HookConflictError extends SfnhooksError {}
export class ResponseAlreadySentError extends SfnhooksError {}
export class PayloadTooLargeError extends SfnhooksError {}
export class IdempotencyKeyMismatchError extends SfnhooksError {}
/** The payload does not match the hook's JSON Schema; `details` lists the failed assertions. */
export class SchemaValidationError extends SfnhooksError {}
/** The hook holds as many pending payloads as its cap; retry after `retryAfterSeconds`. */
export class TooManyPendingError extends SfnhooksError {}
/** A manual webhook holds as many callers as its cap; retry after `retryAfterSeconds`. */
export class TooManyWaitingError extends SfnhooksError {}
export class InternalError extends SfnhooksError {}
export class WebhookGoneError extends SfnhooksError {}
export class ContentionError extends SfnhooksError {}
export class WebhookResponseTimeoutError extends SfnhooksError {}

/** code → class, one per code of ERROR_STATUS. */
export const ERROR_CLASSES = Object.freeze({
  HookNotFound: HookNotFoundError,
  HookNotWaiting: HookNotWaitingError,
  InvalidToken: InvalidTokenError,
  InvalidPayload: InvalidPayloadError,
  InvalidRequest: InvalidRequestError,
  EncryptionKeyRefused: EncryptionKeyRefusedError,
  NotSealed: NotSealedError,
  WeakWebhookToken: WeakWebhookTokenError,
  InvalidSignature: InvalidSignatureError,
  SealedPayloadRefused: SealedPayloadRefusedError,
  MethodNotAllowed: MethodNotAllowedError,
  HookConflict: HookConflictError,
  ResponseAlreadySent: ResponseAlreadySentError,
  PayloadTooLarge: PayloadTooLargeError,
  IdempotencyKeyMismatch: IdempotencyKeyMismatchError,
  SchemaValidation: SchemaValidationError,
  TooManyPending: TooManyPendingError,
  TooManyWaiting: TooManyWaitingError,
  InternalError: InternalError,
  WebhookGone: WebhookGoneError,
  Contention: ContentionError,
  WebhookResponseTimeout: WebhookResponseTimeoutError,
});

/** The Retry-After of a 429 when the answer has none (a direct invoke): pkg/hooks.RetryAfterSeconds. */
export const DEFAULT_RETRY_AFTER_SECONDS = 5;

/**
 * errorFor builds the typed error of an API answer: status, parsed JSON
 * body (or undefined), raw text and Retry-After header value.
 */
export function errorFor(status, body, text, retryAfter) {
  const code = body && typeof body.error === 'string' ? body.error : '';
  const message = (body && typeof body.message === 'string' && body.message) || text || `HTTP ${status}`;
  const Cls = ERROR_CLASSES[code] ?? SfnhooksError;
  const opts = { code, status, body: body ?? text };
  if (body && Array.isArray(body.details)) opts.details = body.details;
  if (status === 429 || code === 'TooManyPending' || code === 'TooManyWaiting') {
    const n = Number.parseInt(retryAfter ?? '', 10);
    opts.retryAfterSeconds = Number.isFinite(n) && n > 0 ? n : DEFAULT_RETRY_AFTER_SECONDS;
  }
  return new Cls(`${code || 'HTTP ' + status}: ${message}`, opts);
}

/**
 * errorForInvoke builds the typed error of a direct Lambda invoke's
 * function error {"errorType","errorMessage"}: errorType is the code with
 * "Error" appended (pkg/hooks.LambdaErrorType), "InternalError" kept.
 */
export function errorForInvoke(errorType, errorMessage) {
  let code = errorType ?? '';
  if (!(code in ERROR_STATUS) && code.endsWith('Error')) code = code.slice(0, -'Error'.length);
  if (!(code in ERROR_STATUS)) {
    return new SfnhooksError(`${errorType}: ${errorMessage}`, { code: errorType ?? '', status: 0 });
  }
  return errorFor(ERROR_STATUS[code], { error: code, message: errorMessage }, errorMessage, undefined);
}
