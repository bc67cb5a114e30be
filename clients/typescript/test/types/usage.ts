// Compiled by test/types.test.js (tsc --noEmit, strict): the declarations
// describe the package's API as a TypeScript user calls it.
import {
  resumeHook, resumeWebhook, getHookByToken, rejectHook, heartbeat, listHooks, listStateMachineHooks, disposeHook,
  configure, SfnhooksClient, SfnhooksError, TooManyPendingError, SchemaValidationError, HookNotFoundError, ERROR_CLASSES, ROUTES,
  type Hook, type HookStatus, type HookList, type StateMachineHookList,
} from '@sfnhooks/client';

export async function route(request: Request, params: { token: string }): Promise<Response> {
  const hook: Hook = await resumeHook(`approval-${params.token}`, { approved: true });
  const runId: string = hook.runId;
  await resumeHook(hook, null, 'arn:aws:kms:us-east-1:123456789012:key/k');
  await resumeHook('t', 1, { encryptionKeyOverride: 'alias/k', idempotencyKey: 'k', signal: AbortSignal.timeout(1000), timeoutMs: 500 });
  const st: HookStatus = await getHookByToken('t');
  const waiting: boolean = st.waiting;
  const page: HookList = await listHooks(runId, { state: 'waiting', limit: 10 });
  const next: string | undefined = page.nextToken;
  await rejectHook('t', 'OrderRejected', 'cause', { idempotencyKey: 'k' });
  await heartbeat({ token: 't' });
  void waiting; void next;
  const machine = 'arn:aws:states:us-east-1:123456789012:stateMachine:orders';
  let sm: StateMachineHookList = await listStateMachineHooks(machine, { state: 'idle', tag: 'customer:acme', order: 'oldest', limit: 50 });
  while (sm.cursor) sm = await listStateMachineHooks(machine, { tag: 'customer:acme', order: 'oldest', cursor: sm.cursor, timeoutMs: 1000 });
  const tags: string[] | undefined = sm.hooks[0]?.tags;
  const until: string | undefined = sm.hooks[0]?.waitingUntil;
  void tags; void until;
  await disposeHook('t', runId);
  await disposeHook(st); // its executionArn
  await configure({ endpoint: 'https://x' }).disposeHook({ token: 't' }, runId, { signal: AbortSignal.timeout(1000) });
  try {
    return await resumeWebhook(params.token, request);
  } catch (err) {
    if (err instanceof TooManyPendingError) return new Response(null, { status: 429, headers: { 'retry-after': String(err.retryAfterSeconds) } });
    if (err instanceof SchemaValidationError) return Response.json(err.details, { status: 422 });
    if (err instanceof HookNotFoundError || err instanceof SfnhooksError) return new Response(err.message, { status: err.status });
    throw err;
  }
}

export function clients(): SfnhooksClient[] {
  const codes: string[] = Object.keys(ERROR_CLASSES);
  const path: string = ROUTES.resumeHook[1];
  void codes; void path;
  return [
    configure({ endpoint: 'https://abc.execute-api.us-east-1.amazonaws.com' }),
    new SfnhooksClient({ endpoint: 'http://127.0.0.1:3000', auth: 'none', maxRetries: 0 }),
    new SfnhooksClient({ endpoint: 'https://x', auth: 'jwt', jwt: async () => 'token' }),
    new SfnhooksClient({ endpoint: 'https://x', auth: 'sigv4', region: 'eu-west-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }),
    new SfnhooksClient({ lambda: { resumeHookFunction: 'sfnhooks-resume-hook', region: 'us-east-1' } }),
  ];
}

// @ts-expect-error: a token is a string or a hook
await resumeHook(42, {});
// @ts-expect-error: auth is one of three
new SfnhooksClient({ auth: 'basic' });
// @ts-expect-error: a state machine listing's state is waiting, pending or idle
await listStateMachineHooks('arn', { state: 'stuck' });
// @ts-expect-error: order is newest or oldest
await listStateMachineHooks('arn', { order: 'asc' });
// @ts-expect-error: disposeHook needs a token
await disposeHook(undefined, 'arn');
// @ts-expect-error: resumeWebhook takes a Request
await resumeWebhook('t', { method: 'POST' });
