import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';

export * from './errors.js';

/** Routes of docs/openapi.yaml this client calls: operationId → [method, path]. */
export declare const ROUTES: Readonly<Record<'resumeHook' | 'getHook' | 'listHooks' | 'rejectHook' | 'heartbeatHook' | 'disposeHook' | 'resumeWebhook', readonly [string, string]>>;
/** Every error code the API documents: code → HTTP status. */
export declare const ERROR_STATUS: Readonly<Record<ErrorCode, number>>;
export declare const HEADER_IDEMPOTENCY_KEY: 'Idempotency-Key';
export declare const HEADER_ENCRYPTION_KEY: 'X-Sfnhooks-Encryption-Key';

export type ErrorCode =
  | 'HookNotFound' | 'HookNotWaiting' | 'InvalidToken' | 'InvalidPayload' | 'InvalidRequest'
  | 'EncryptionKeyRefused' | 'NotSealed' | 'WeakWebhookToken' | 'InvalidSignature' | 'SealedPayloadRefused'
  | 'MethodNotAllowed' | 'HookConflict' | 'ResponseAlreadySent' | 'PayloadTooLarge' | 'IdempotencyKeyMismatch'
  | 'SchemaValidation' | 'TooManyPending' | 'TooManyWaiting' | 'InternalError' | 'WebhookGone' | 'Contention'
  | 'WebhookResponseTimeout';

/** A hook (docs/openapi.yaml, Hook). runId is the toolkit's name for its run: the execution's ARN. */
export interface Hook<M = unknown> {
  token: string;
  hookId: string;
  executionArn: string;
  runId: string;
  kind: 'hook' | 'webhook';
  metadata?: M;
  createdAt: string;
  url?: string;
  respondWith?: Record<string, unknown>;
  verify?: Record<string, unknown>;
  encrypt?: { kmsKeyId: string };
  /** The hook's tags (key:value), sorted; set by the first create or await that gives them. */
  tags?: string[];
}

/** A hook with its delivery state (HookStatus). */
export interface HookStatus<M = unknown> extends Hook<M> {
  /** An execution is parked on the hook now. */
  waiting: boolean;
  /** Stored payloads not yet delivered. */
  pending: number;
  /** Payloads handed to awaits so far. */
  delivered: number;
  /** When the parked await's task times out (absent when the await gave no timeout). */
  waitingUntil?: string;
}

export interface HookList {
  hooks: HookStatus[];
  /** Present when more hooks may follow: pass it as nextToken. */
  nextToken?: string;
}

/** A page of a state machine's hooks (listStateMachineHooks). */
export interface StateMachineHookList {
  hooks: HookStatus[];
  /** Present when more hooks may follow: pass it as cursor. */
  cursor?: string;
}

export interface CallOptions {
  /** Abort the call (and its retries). */
  signal?: AbortSignal;
  /** Give up after this many milliseconds, retries included (a TimeoutError DOMException). */
  timeoutMs?: number;
}

export interface ResumeOptions extends CallOptions {
  /** Seal the payload with a data key of this KMS key (docs/sealed.md; the toolkit's encryptionKeyOverride). */
  encryptionKeyOverride?: string;
  /** Apply the payload once for this key (default: a random key per call, kept across its retries). */
  idempotencyKey?: string;
}

export interface RejectOptions extends CallOptions {
  idempotencyKey?: string;
}

export interface ListOptions extends CallOptions {
  state?: 'waiting' | 'pending';
  /** Hooks the page evaluates (1-100). */
  limit?: number;
  nextToken?: string;
}

export interface StateMachineListOptions extends CallOptions {
  /** waiting: an await is parked; pending: payloads are stored; idle: neither. Default: every hook. */
  state?: 'waiting' | 'pending' | 'idle';
  /** Only hooks carrying this tag, exactly (key:value). */
  tag?: string;
  /** By creation time: newest first (the default) or oldest first. */
  order?: 'newest' | 'oldest';
  /** Hooks a page lists (1-50, default 25). */
  limit?: number;
  /** The cursor of the previous page (same stateMachineArn, tag and order). */
  cursor?: string;
}

export type Credentials = AwsCredentialIdentity | AwsCredentialIdentityProvider;

export interface LambdaOptions {
  /** The resume-hook function (name or ARN); default $SFNHOOKS_RESUME_HOOK_FUNCTION. */
  resumeHookFunction?: string;
  /** The resume-webhook function (name or ARN); default $SFNHOOKS_RESUME_WEBHOOK_FUNCTION. */
  resumeWebhookFunction?: string;
  /** A LambdaClient of @aws-sdk/client-lambda to use. */
  client?: unknown;
  region?: string;
  endpoint?: string;
  credentials?: Credentials;
}

export interface ClientOptions {
  /** The API's base URL (the stack's ApiUrl output); default $SFNHOOKS_ENDPOINT. */
  endpoint?: string;
  /**
   * How requests to the API are authorized: SigV4 with the default
   * credential chain (service execute-api), a JWT bearer, or nothing.
   * Default $SFNHOOKS_AUTH, else "none" for a loopback endpoint (make dev), else "sigv4".
   */
  auth?: 'sigv4' | 'jwt' | 'none';
  /**
   * How the operator routes are authorized (listHooks and
   * listStateMachineHooks: GET /hooks; disposeHook: DELETE /hooks/{token}):
   * default "sigv4" (they are always SigV4 on AWS, whatever the other
   * routes take), or auth for a loopback endpoint (make dev).
   */
  listAuth?: 'sigv4' | 'jwt' | 'none';
  /** The bearer token of auth "jwt", or a function that returns a fresh one; default $SFNHOOKS_JWT. */
  jwt?: string | (() => string | Promise<string>);
  /** The region to sign for (default: from the execute-api host name, else AWS_REGION). */
  region?: string;
  /** Credentials to sign with (default: the AWS SDK's default chain). */
  credentials?: Credentials;
  /** Invoke the functions directly instead of the HTTP API (callers inside AWS). */
  lambda?: LambdaOptions;
  /** Retries of a transient failure (network, InternalError, Contention); default 3. */
  maxRetries?: number;
  /** The fetch to use (default globalThis.fetch). */
  fetch?: typeof fetch;
}

export declare class SfnhooksClient {
  constructor(options?: ClientOptions);
  resumeHook<T = unknown>(tokenOrHook: string | { token: string }, payload: T, options?: string | ResumeOptions): Promise<Hook>;
  resumeWebhook(token: string, request: Request, options?: CallOptions): Promise<Response>;
  getHookByToken(token: string, options?: CallOptions): Promise<HookStatus>;
  listHooks(executionArn: string, options?: ListOptions): Promise<HookList>;
  listStateMachineHooks(stateMachineArn: string, options?: StateMachineListOptions): Promise<StateMachineHookList>;
  /** executionArn defaults to the hook's own when a hook is given; a hook's hookId makes it dispose that hook only. */
  disposeHook(tokenOrHook: string | { token: string; executionArn?: string; hookId?: string }, executionArn?: string, options?: CallOptions): Promise<void>;
  rejectHook(tokenOrHook: string | { token: string }, error: string, cause?: string, options?: RejectOptions): Promise<Hook>;
  heartbeat(tokenOrHook: string | { token: string }, options?: CallOptions): Promise<void>;
}

/** Set the options of the client the functions below use (default: from the environment). */
export declare function configure(options?: ClientOptions): SfnhooksClient;
/** Whether err is a failure the client retries (network, InternalError, Contention, API Gateway 5xx/429). */
export declare function isTransient(err: unknown): boolean;

export declare function resumeHook<T = unknown>(tokenOrHook: string | { token: string }, payload: T, options?: string | ResumeOptions): Promise<Hook>;
export declare function resumeWebhook(token: string, request: Request, options?: CallOptions): Promise<Response>;
export declare function getHookByToken(token: string, options?: CallOptions): Promise<HookStatus>;
export declare function listHooks(executionArn: string, options?: ListOptions): Promise<HookList>;
export declare function listStateMachineHooks(stateMachineArn: string, options?: StateMachineListOptions): Promise<StateMachineHookList>;
export declare function disposeHook(tokenOrHook: string | { token: string; executionArn?: string; hookId?: string }, executionArn?: string, options?: CallOptions): Promise<void>;
export declare function rejectHook(tokenOrHook: string | { token: string }, error: string, cause?: string, options?: RejectOptions): Promise<Hook>;
export declare function heartbeat(tokenOrHook: string | { token: string }, options?: CallOptions): Promise<void>;
