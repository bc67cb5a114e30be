// sfnhooks client: resume Step Functions executions paused on a hook, from
// Node (>= 20), through the sfnhooks HTTP API (SigV4, a JWT bearer, or no
// auth) or by invoking its Lambda functions directly. docs/openapi.yaml is
// the contract; README.md shows the use.
import { randomUUID } from 'node:crypto';
import { ROUTES, HEADER_IDEMPOTENCY_KEY, HEADER_ENCRYPTION_KEY, ERROR_STATUS } from './contract.js';
import { SfnhooksError, errorFor, errorForInvoke } from './errors.js';

export * from './errors.js';
export { ROUTES, ERROR_STATUS, HEADER_IDEMPOTENCY_KEY, HEADER_ENCRYPTION_KEY } from './contract.js';

const DEFAULT_MAX_RETRIES = 3;
const BASE_DELAY_MS = 100;
const MAX_DELAY_MS = 2000;
// Request headers that belong to one hop, not to the request a webhook's workflow sees.
const HOP_HEADERS = new Set(['host', 'connection', 'keep-alive', 'content-length', 'transfer-encoding', 'upgrade', 'expect', 'proxy-connection', 'te', 'trailer']);

/** A client of one sfnhooks deployment. */
export class SfnhooksClient {
  /** @param {import('./index.js').ClientOptions} [options] */
  constructor(options = {}) {
    this.maxRetries = options.maxRetries ?? DEFAULT_MAX_RETRIES;
    this.fetch = options.fetch ?? globalThis.fetch;
    if (options.lambda) {
      this.transport = new LambdaTransport(options.lambda);
      return;
    }
    const endpoint = options.endpoint ?? process.env.SFNHOOKS_ENDPOINT;
    if (!endpoint) {
      throw new SfnhooksError('no endpoint: pass endpoint (the stack\'s ApiUrl output; http://127.0.0.1:3000 for make dev), set SFNHOOKS_ENDPOINT, or pass lambda for a direct invoke');
    }
    this.transport = new HttpTransport(endpoint, options, this.fetch);
  }

  /**
   * Resume the hook named tokenOrHook (or tokenOrHook.token) with payload
   * (any JSON value). options is the encryption key override (a KMS key) or
   * {encryptionKeyOverride, idempotencyKey, signal, timeoutMs}. Without an
   * idempotency key one is made for this call, so that a retry never
   * stores the payload twice.
   */
  async resumeHook(tokenOrHook, payload, options) {
    const opts = typeof options === 'string' ? { encryptionKeyOverride: options } : { ...options };
    const token = tokenOf(tokenOrHook);
    const key = opts.idempotencyKey ?? randomUUID();
    const body = JSON.stringify(payload === undefined ? null : payload);
    return this.#retry(opts, (signal) => this.transport.resume(token, body, key, opts.encryptionKeyOverride, signal)).then(withRunId);
  }

  /** The hook, with waiting (an await is parked on it), pending and delivered. */
  async getHookByToken(token, options = {}) {
    return this.#retry(options, (signal) => this.transport.get(token, signal)).then(withRunId);
  }

  /**
   * One page of an execution's live hooks: {hooks, nextToken}. Keep asking
   * with nextToken until it is absent (a page can be empty while more follow).
   */
  async listHooks(executionArn, options = {}) {
    const page = await this.#retry(options, (signal) => this.transport.list(executionArn, options, signal));
    return { ...page, hooks: (page.hooks ?? []).map(withRunId) };
  }

  /**
   * One page of the live hooks of every execution of a state machine, by
   * age: {hooks, cursor}. options: state ('waiting', 'pending' or 'idle'),
   * tag (one key:value, exact), order ('newest', the default, or
   * 'oldest'), limit (1-50, default 25), cursor (the previous page's, with
   * the same stateMachineArn, tag and order). Keep asking with cursor until
   * it is absent (with a state, a page can be empty while more follow).
   * An operator route (GET /hooks?stateMachineArn=…): signed as listAuth.
   */
  async listStateMachineHooks(stateMachineArn, options = {}) {
    const page = await this.#retry(options, (signal) => this.transport.listStateMachine(stateMachineArn, options, signal));
    return { ...page, hooks: (page.hooks ?? []).map(withRunId) };
  }

  /**
   * Dispose the hook while executionArn holds it, as the workflow's
   * dispose does (an await parked on it fails with HookDisposedError).
   * Given a hook (from a listing), its executionArn is the default, and
   * only that hook is disposed (its hookId): not one its execution created
   * again since under the same token, which answers HookConflictError. A
   * hook already gone is success, so a retry is safe. An operator route
   * (DELETE /hooks/{token}?executionArn=…&hookId=…): signed as listAuth.
   */
  async disposeHook(tokenOrHook, executionArn, options = {}) {
    const token = tokenOf(tokenOrHook);
    const hook = typeof tokenOrHook === 'object' ? tokenOrHook : undefined;
    const exe = executionArn ?? hook?.executionArn ?? '';
    const hookId = hook?.hookId ?? '';
    await this.#retry(options, (signal) => this.transport.dispose(token, exe, hookId, signal));
  }

  /** Fail the hook's await with error (the name a Catch matches) and cause. */
  async rejectHook(tokenOrHook, error, cause = '', options = {}) {
    const token = tokenOf(tokenOrHook);
    const key = options.idempotencyKey ?? randomUUID();
    return this.#retry(options, (signal) => this.transport.reject(token, error, cause, key, signal)).then(withRunId);
  }

  /** Restart the heartbeat clock of the await parked on the hook. */
  async heartbeat(tokenOrHook, options = {}) {
    await this.#retry(options, (signal) => this.transport.heartbeat(tokenOf(tokenOrHook), signal));
  }

  /**
   * Hand request (a web-standard Request) to the workflow that created the
   * webhook token, and return the workflow's Response (static or manual).
   * Errors of the API itself (unknown webhook, too large, timeout, …) are
   * thrown as typed errors. Sent once: the webhook route has no
   * idempotency key, so nothing is retried.
   */
  async resumeWebhook(token, request, options = {}) {
    if (!(request instanceof Request)) throw new TypeError('resumeWebhook: request must be a Request');
    return withDeadline(options, (signal) => this.transport.webhook(token, request, signal));
  }

  async #retry(options, attempt) {
    return withDeadline(options, async (signal) => {
      for (let n = 0; ; n++) {
        try {
          return await attempt(signal);
        } catch (err) {
          if (signal.aborted || n >= this.maxRetries || !isTransient(err)) throw err;
          const delay = Math.random() * Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** n);
          await sleep(delay, signal);
        }
      }
    });
  }
}

function tokenOf(tokenOrHook) {
  const token = typeof tokenOrHook === 'string' ? tokenOrHook : tokenOrHook?.token;
  if (typeof token !== 'string' || token === '') throw new TypeError('a hook token (string) or a hook with a token is required');
  return token;
}

// runId is the toolkit's name for the hook's run: here its execution.
function withRunId(hook) {
  return hook && typeof hook === 'object' && hook.executionArn ? { ...hook, runId: hook.executionArn } : hook;
}

/** isTransient: a failure that may not have been applied, or was refused for load: retried. */
export function isTransient(err) {
  if (err instanceof SfnhooksError) {
    if (err.code === 'InternalError' || err.code === 'Contention') return true;
    // API Gateway's own answers (no code): throttling, integration failures.
    return err.code === '' && [429, 500, 502, 503, 504].includes(err.status);
  }
  if (err?.name === 'AbortError' || err?.name === 'TimeoutError') return false;
  if (err instanceof TypeError && err.message === 'fetch failed') return true; // connection refused or reset, answer lost
  const status = err?.$metadata?.httpStatusCode;
  if (err?.$retryable || (typeof status === 'number' && status >= 500)) return true; // AWS SDK (Lambda transport)
  return ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT'].includes(err?.code);
}

function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve(); }, ms);
    const onAbort = () => { clearTimeout(t); reject(signal.reason); };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

// withDeadline runs fn with a signal aborted by options.signal or after options.timeoutMs.
async function withDeadline(options, fn) {
  const ctl = new AbortController();
  const cleanups = [];
  if (options.signal) {
    if (options.signal.aborted) throw options.signal.reason;
    const onAbort = () => ctl.abort(options.signal.reason);
    options.signal.addEventListener('abort', onAbort, { once: true });
    cleanups.push(() => options.signal.removeEventListener('abort', onAbort));
  }
  if (options.timeoutMs !== undefined) {
    const t = setTimeout(() => ctl.abort(new DOMException(`sfnhooks: no answer within ${options.timeoutMs} ms`, 'TimeoutError')), options.timeoutMs);
    cleanups.push(() => clearTimeout(t));
  }
  try {
    return await fn(ctl.signal);
  } finally {
    for (const c of cleanups) c();
  }
}

function pathOf(op, token) {
  const path = ROUTES[op][1];
  return token === undefined ? path : path.replace('{token}', encodeURIComponent(token));
}

// executionQuery is the query of GET /hooks?executionArn=…: the options
// given, as the API names them.
function executionQuery(executionArn, { state, limit, nextToken } = {}) {
  const query = { executionArn };
  if (state) query.state = state;
  if (limit !== undefined) query.limit = String(limit);
  if (nextToken) query.nextToken = nextToken;
  return query;
}

// stateMachineQuery is the query of GET /hooks?stateMachineArn=…: the
// options given, as the API names them.
function stateMachineQuery(stateMachineArn, { state, tag, order, limit, cursor } = {}) {
  const query = { stateMachineArn };
  if (state) query.state = state;
  if (tag) query.tag = tag;
  if (order) query.order = order;
  if (limit !== undefined) query.limit = String(limit);
  if (cursor) query.cursor = cursor;
  return query;
}

// disposeQuery is the query of DELETE /hooks/{token}: the execution, and
// the hook id when one is given.
function disposeQuery(executionArn, hookId) {
  const query = { executionArn };
  if (hookId) query.hookId = hookId;
  return query;
}

// canonicalQuery encodes query as SigV4's canonical request does (RFC 3986:
// a space is %20, never '+'; only A-Z a-z 0-9 - _ . ~ left as they are), so
// that the query signed is byte for byte the query sent, whatever a tag or
// cursor holds.
function canonicalQuery(query) {
  const enc = (v) => encodeURIComponent(v).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
  return Object.entries(query).map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&');
}

function isLoopback(url) {
  const h = url.hostname.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\./.test(h);
}

// regionOf reads the region of an execute-api host: {id}.execute-api.{region}.amazonaws.com.
function regionOf(url) {
  const parts = url.hostname.split('.');
  const i = parts.indexOf('execute-api');
  return i >= 0 && i + 1 < parts.length ? parts[i + 1] : undefined;
}

async function readAnswer(resp) {
  const text = await resp.text();
  let json;
  try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
  return { status: resp.status, text, json, retryAfter: resp.headers.get('retry-after') ?? undefined };
}

/** The HTTP API: SigV4 (service execute-api), a JWT bearer, or no auth. */
class HttpTransport {
  constructor(endpoint, options, fetchFn) {
    this.base = new URL(endpoint.replace(/\/+$/, ''));
    this.prefix = this.base.pathname.replace(/\/+$/, '');
    this.fetch = fetchFn;
    const auth = options.auth ?? process.env.SFNHOOKS_AUTH ?? (isLoopback(this.base) ? 'none' : 'sigv4');
    this.auth = auth;
    // GET /hooks and DELETE /hooks/{token} are operator routes: always
    // SigV4 on AWS, whatever auth the other routes take (docs/openapi.yaml);
    // make dev checks none.
    this.listAuth = options.listAuth ?? (isLoopback(this.base) ? auth : 'sigv4');
    for (const a of [auth, this.listAuth]) {
      if (!['sigv4', 'jwt', 'none'].includes(a)) throw new SfnhooksError(`unknown auth ${JSON.stringify(a)} (sigv4, jwt or none)`);
    }
    if (auth === 'jwt' || this.listAuth === 'jwt') {
      this.jwt = options.jwt ?? process.env.SFNHOOKS_JWT;
      if (!this.jwt) throw new SfnhooksError('auth "jwt" needs jwt (a token, or a function returning one) or SFNHOOKS_JWT');
    }
    this.region = options.region ?? regionOf(this.base) ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
    if (auth === 'sigv4' && !this.region) throw new SfnhooksError('auth "sigv4" needs a region: pass region, use the execute-api host name, or set AWS_REGION');
    this.credentials = options.credentials;
  }

  async #signer() {
    if (!this.signerPromise) {
      this.signerPromise = (async () => {
        if (!this.region) throw new SfnhooksError('SigV4 needs a region: pass region, use the execute-api host name, or set AWS_REGION');
        const [{ SignatureV4 }, { Sha256 }] = await Promise.all([import('@smithy/signature-v4'), import('@aws-crypto/sha256-js')]);
        let credentials = this.credentials;
        if (!credentials) {
          const { fromNodeProviderChain } = await import('@aws-sdk/credential-providers');
          credentials = fromNodeProviderChain();
        }
        return new SignatureV4({ service: 'execute-api', region: this.region, credentials, sha256: Sha256 });
      })();
      this.signerPromise.catch(() => { this.signerPromise = undefined; });
    }
    return this.signerPromise;
  }

  // send makes one request; it returns the answer (any status). query is
  // an object (form-encoded, as URLSearchParams does) or search the query
  // string as it is to be sent.
  async send(method, path, { query, search, body, headers = {}, signal, sign = true, auth = this.auth }) {
    const url = new URL(this.base.href);
    url.pathname = this.prefix + path;
    url.search = search ?? (query ? new URLSearchParams(query).toString() : '');
    let h = { ...headers };
    if (sign && auth === 'jwt') {
      const jwt = typeof this.jwt === 'function' ? await this.jwt() : this.jwt;
      h.authorization = `Bearer ${jwt}`;
    } else if (sign && auth === 'sigv4') {
      const signer = await this.#signer();
      const q = {};
      for (const [k, v] of url.searchParams) q[k] = v;
      const signed = await signer.sign({
        method, protocol: url.protocol, hostname: url.hostname, port: url.port ? Number(url.port) : undefined,
        path: url.pathname, query: q, headers: { ...h, host: url.host }, body,
      });
      h = { ...signed.headers };
      delete h.host; // fetch sets it (the same value)
    }
    return this.fetch(url, { method, headers: h, body, signal, redirect: 'manual' });
  }

  async call(op, token, { query, ...opts }) {
    const [method] = ROUTES[op];
    const search = query ? canonicalQuery(query) : undefined;
    const a = await readAnswer(await this.send(method, pathOf(op, token), { ...opts, search }));
    if (a.status >= 200 && a.status < 300) return a.json;
    throw errorFor(a.status, a.json, a.text, a.retryAfter);
  }

  resume(token, body, key, encryptionKey, signal) {
    const headers = { 'content-type': 'application/json', [HEADER_IDEMPOTENCY_KEY.toLowerCase()]: key };
    if (encryptionKey) headers[HEADER_ENCRYPTION_KEY.toLowerCase()] = encryptionKey;
    return this.call('resumeHook', token, { body, headers, signal });
  }

  get(token, signal) { return this.call('getHook', token, { signal }); }

  list(executionArn, options, signal) {
    return this.call('listHooks', undefined, { query: executionQuery(executionArn, options), signal, auth: this.listAuth });
  }

  listStateMachine(stateMachineArn, options, signal) {
    return this.call('listHooks', undefined, { query: stateMachineQuery(stateMachineArn, options), signal, auth: this.listAuth });
  }

  dispose(token, executionArn, hookId, signal) {
    return this.call('disposeHook', token, { query: disposeQuery(executionArn, hookId), signal, auth: this.listAuth });
  }

  reject(token, error, cause, key, signal) {
    const headers = { 'content-type': 'application/json', [HEADER_IDEMPOTENCY_KEY.toLowerCase()]: key };
    return this.call('rejectHook', token, { body: JSON.stringify({ error, cause }), headers, signal });
  }

  heartbeat(token, signal) { return this.call('heartbeatHook', token, { signal }); }

  async webhook(token, request, signal) {
    const headers = {};
    for (const [k, v] of request.headers) if (!HOP_HEADERS.has(k)) headers[k] = v;
    const body = request.method === 'GET' || request.method === 'HEAD' ? undefined : new Uint8Array(await request.arrayBuffer());
    const search = new URL(request.url).search;
    const path = pathOf('resumeWebhook', token);
    // Public route: the token is the credential; nothing is signed.
    const resp = await this.send(request.method, path, { query: search ? Object.fromEntries(new URLSearchParams(search)) : undefined, body, headers, signal, sign: false });
    const raw = new Uint8Array(await resp.arrayBuffer());
    const out = new Headers();
    for (const [k, v] of resp.headers) if (k !== 'content-encoding' && k !== 'content-length') out.append(k, v);
    return webhookAnswer(resp.status, out, raw, request.method);
  }
}

// webhookAnswer returns the workflow's response, or throws the API's own
// error (a JSON body with a documented code at that code's status).
function webhookAnswer(status, headers, raw, method) {
  if (status >= 400 && (headers.get('content-type') ?? '').startsWith('application/json')) {
    const text = new TextDecoder().decode(raw);
    let json;
    try { json = JSON.parse(text); } catch { json = undefined; }
    const code = json?.error;
    if (typeof code === 'string' && ERROR_STATUS[code] === status) throw errorFor(status, json, text, headers.get('retry-after') ?? undefined);
  }
  const nullBody = method === 'HEAD' || [101, 204, 205, 304].includes(status);
  return new Response(nullBody ? null : raw, { status, headers });
}

/** Direct invoke of the resume-hook and resume-webhook functions (@aws-sdk/client-lambda). */
class LambdaTransport {
  constructor(options) {
    this.options = options;
    this.resumeHookFunction = options.resumeHookFunction ?? process.env.SFNHOOKS_RESUME_HOOK_FUNCTION;
    this.resumeWebhookFunction = options.resumeWebhookFunction ?? process.env.SFNHOOKS_RESUME_WEBHOOK_FUNCTION;
  }

  async #client() {
    if (!this.clientPromise) {
      this.clientPromise = (async () => {
        let mod;
        try {
          mod = await import('@aws-sdk/client-lambda');
        } catch (err) {
          throw new SfnhooksError('the Lambda transport needs @aws-sdk/client-lambda: npm install @aws-sdk/client-lambda', { body: String(err) });
        }
        const client = this.options.client ?? new mod.LambdaClient({
          region: this.options.region, endpoint: this.options.endpoint, credentials: this.options.credentials,
        });
        return { client, InvokeCommand: mod.InvokeCommand };
      })();
    }
    return this.clientPromise;
  }

  async invoke(fn, event, signal) {
    if (!fn) throw new SfnhooksError('no function name: pass lambda.resumeHookFunction / lambda.resumeWebhookFunction or set SFNHOOKS_RESUME_HOOK_FUNCTION / SFNHOOKS_RESUME_WEBHOOK_FUNCTION');
    const { client, InvokeCommand } = await this.#client();
    const out = await client.send(new InvokeCommand({ FunctionName: fn, Payload: new TextEncoder().encode(JSON.stringify(event)) }), { abortSignal: signal });
    const text = out.Payload ? new TextDecoder().decode(out.Payload) : '';
    let json;
    try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
    if (out.FunctionError) throw errorForInvoke(json?.errorType ?? out.FunctionError, json?.errorMessage ?? text);
    return json;
  }

  // http invokes fn with an API Gateway HTTP API (payload 2.0) event and returns its answer.
  async http(fn, routeKey, { method, token, path, query = '', headers = {}, body, cookies, domainName = 'lambda.invalid' }, signal) {
    const event = {
      version: '2.0', routeKey, rawPath: path, rawQueryString: query, headers,
      requestContext: {
        domainName, http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: headers['user-agent'] ?? 'sfnhooks-client' },
        requestId: randomUUID(), routeKey, stage: '$default', timeEpoch: Date.now(),
      },
      isBase64Encoded: body !== undefined,
    };
    if (token !== undefined) event.pathParameters = { token };
    if (query) event.queryStringParameters = Object.fromEntries(new URLSearchParams(query));
    if (body !== undefined) event.body = Buffer.from(body).toString('base64');
    if (cookies?.length) event.cookies = cookies;
    const resp = await this.invoke(fn, event, signal);
    if (!resp || typeof resp.statusCode !== 'number') throw new SfnhooksError('the function did not answer with an HTTP API response', { body: resp });
    return resp;
  }

  async httpJSON(routeKey, opts, signal) {
    const r = await this.http(this.resumeHookFunction, routeKey, opts, signal);
    const text = r.isBase64Encoded ? Buffer.from(r.body ?? '', 'base64').toString('utf8') : (r.body ?? '');
    let json;
    try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
    if (r.statusCode >= 200 && r.statusCode < 300) return json;
    throw errorFor(r.statusCode, json, text, r.headers?.['retry-after']);
  }

  resume(token, body, key, encryptionKey, signal) {
    const event = { token, payload: JSON.parse(body), idempotencyKey: key };
    if (encryptionKey) event.encryptionKeyId = encryptionKey;
    return this.invoke(this.resumeHookFunction, event, signal);
  }

  get(token, signal) {
    return this.httpJSON('GET /hooks/{token}', { method: 'GET', token, path: '/hooks/' + token }, signal);
  }

  list(executionArn, options, signal) {
    const q = new URLSearchParams(executionQuery(executionArn, options));
    return this.httpJSON('GET /hooks', { method: 'GET', path: '/hooks', query: q.toString() }, signal);
  }

  listStateMachine(stateMachineArn, options, signal) {
    const q = new URLSearchParams(stateMachineQuery(stateMachineArn, options));
    return this.httpJSON('GET /hooks', { method: 'GET', path: '/hooks', query: q.toString() }, signal);
  }

  dispose(token, executionArn, hookId, signal) {
    const q = new URLSearchParams(disposeQuery(executionArn, hookId));
    return this.httpJSON('DELETE /hooks/{token}', { method: 'DELETE', token, path: '/hooks/' + token, query: q.toString() }, signal);
  }

  reject(token, error, cause, key, signal) {
    return this.invoke(this.resumeHookFunction, { action: 'reject', token, error, cause, idempotencyKey: key }, signal);
  }

  heartbeat(token, signal) {
    return this.invoke(this.resumeHookFunction, { action: 'heartbeat', token }, signal);
  }

  async webhook(token, request, signal) {
    const headers = {};
    const cookies = [];
    for (const [k, v] of request.headers) {
      if (k === 'cookie') cookies.push(...v.split(/;\s*/));
      else if (!HOP_HEADERS.has(k)) headers[k] = v;
    }
    const url = new URL(request.url);
    headers.host = url.host;
    const body = request.method === 'GET' || request.method === 'HEAD' ? undefined : new Uint8Array(await request.arrayBuffer());
    const r = await this.http(this.resumeWebhookFunction, 'ANY /webhooks/{token}', {
      method: request.method, token, path: '/webhooks/' + token, query: url.search.slice(1), headers, body, cookies, domainName: url.host,
    }, signal);
    const out = new Headers();
    for (const [k, v] of Object.entries(r.headers ?? {})) out.append(k, v);
    for (const c of r.cookies ?? []) out.append('set-cookie', c);
    const raw = r.isBase64Encoded ? Buffer.from(r.body ?? '', 'base64') : new TextEncoder().encode(r.body ?? '');
    return webhookAnswer(r.statusCode, out, new Uint8Array(raw), request.method);
  }
}

let defaultClient;

/** Set the options of the client the top-level functions use (default: from the environment). */
export function configure(options) {
  defaultClient = new SfnhooksClient(options);
  return defaultClient;
}

function client() {
  if (!defaultClient) {
    const fn = process.env.SFNHOOKS_RESUME_HOOK_FUNCTION;
    defaultClient = new SfnhooksClient(!process.env.SFNHOOKS_ENDPOINT && fn ? { lambda: {} } : {});
  }
  return defaultClient;
}

export const resumeHook = (tokenOrHook, payload, options) => client().resumeHook(tokenOrHook, payload, options);
export const resumeWebhook = (token, request, options) => client().resumeWebhook(token, request, options);
export const getHookByToken = (token, options) => client().getHookByToken(token, options);
export const listHooks = (executionArn, options) => client().listHooks(executionArn, options);
export const listStateMachineHooks = (stateMachineArn, options) => client().listStateMachineHooks(stateMachineArn, options);
export const disposeHook = (tokenOrHook, executionArn, options) => client().disposeHook(tokenOrHook, executionArn, options);
export const rejectHook = (tokenOrHook, error, cause, options) => client().rejectHook(tokenOrHook, error, cause, options);
export const heartbeat = (tokenOrHook, options) => client().heartbeat(tokenOrHook, options);
