import type { ErrorCode } from './index.js';

export interface SchemaViolation {
  instanceLocation: string;
  keywordLocation: string;
  error: string;
}

/** An answer of the API other than 2xx. */
export declare class SfnhooksError extends Error {
  /** The API's error code; "" for an answer of API Gateway itself (failed authorization, throttling). */
  readonly code: ErrorCode | '' | string;
  /** The HTTP status (for a direct invoke, the status the API gives the code; 0 if unknown). */
  readonly status: number;
  /** SchemaValidation: the failed assertions of the hook's JSON Schema. */
  readonly details?: SchemaViolation[];
  /** TooManyPending, TooManyWaiting: seconds to wait before retrying (Retry-After). */
  readonly retryAfterSeconds?: number;
  /** The answer's body (parsed JSON, or text). */
  readonly body?: unknown;
  constructor(message: string, init?: { code?: string; status?: number; details?: SchemaViolation[]; retryAfterSeconds?: number; body?: unknown });
}

export declare class HookNotFoundError extends SfnhooksError {}
export declare class HookNotWaitingError extends SfnhooksError {}
export declare class InvalidTokenError extends SfnhooksError {}
export declare class InvalidPayloadError extends SfnhooksError {}
export declare class InvalidRequestError extends SfnhooksError {}
export declare class EncryptionKeyRefusedError extends SfnhooksError {}
export declare class NotSealedError extends SfnhooksError {}
export declare class WeakWebhookTokenError extends SfnhooksError {}
export declare class InvalidSignatureError extends SfnhooksError {}
export declare class SealedPayloadRefusedError extends SfnhooksError {}
export declare class MethodNotAllowedError extends SfnhooksError {}
export declare class HookConflictError extends SfnhooksError {}
export declare class ResponseAlreadySentError extends SfnhooksError {}
export declare class PayloadTooLargeError extends SfnhooksError {}
export declare class IdempotencyKeyMismatchError extends SfnhooksError {}
export declare class SchemaValidationError extends SfnhooksError { readonly details: SchemaViolation[]; }
export declare class TooManyPendingError extends SfnhooksError { readonly retryAfterSeconds: number; }
export declare class TooManyWaitingError extends SfnhooksError { readonly retryAfterSeconds: number; }
export declare class InternalError extends SfnhooksError {}
export declare class WebhookGoneError extends SfnhooksError {}
export declare class ContentionError extends SfnhooksError {}
export declare class WebhookResponseTimeoutError extends SfnhooksError {}

/** code → class. */
export declare const ERROR_CLASSES: Readonly<Record<ErrorCode, typeof SfnhooksError>>;
export declare const DEFAULT_RETRY_AFTER_SECONDS: number;
export declare function errorFor(status: number, body: unknown, text: string, retryAfter?: string): SfnhooksError;
export declare function errorForInvoke(errorType: string, errorMessage: string): SfnhooksError;
