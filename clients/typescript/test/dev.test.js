// The client against make dev's stack: each test resumes a real execution of
// an example state machine and asserts the execution's output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createHmac } from 'node:crypto';
import {
  SfnhooksClient, HookNotFoundError, InvalidTokenError, InvalidPayloadError, InvalidRequestError,
  PayloadTooLargeError, IdempotencyKeyMismatchError, SchemaValidationError, TooManyPendingError,
  EncryptionKeyRefusedError, HookNotWaitingError, InvalidSignatureError, WebhookResponseTimeoutError,
  SfnhooksError, HookConflictError,
} from '../src/index.js';
import { dev, uniq, startDev, startSDK, ensureMachine, finished, until, hookTask, fakeExecution, lambdaOptions, sleep } from './dev.js';

const client = new SfnhooksClient({ endpoint: dev.apiUrl }); // loopback: no auth, as make dev checks none
const signed = new SfnhooksClient({ endpoint: dev.apiUrl, auth: 'sigv4', region: 'us-east-1' });
const bearer = new SfnhooksClient({ endpoint: dev.apiUrl, auth: 'jwt', jwt: async () => 'header.payload.signature' });
const direct = new SfnhooksClient({ lambda: lambdaOptions });

// created waits for the collect example to have created its hook (resumes that arrive before are HookNotFound).
async function created(token) {
  return until(`hook ${token} created`, () => client.getHookByToken(token));
}

async function parked(c, token) {
  return until(`an await parked on ${token}`, async () => (await c.getHookByToken(token)).waiting);
}

for (const [name, c] of [['no auth', client], ['SigV4', signed], ['Lambda invoke', direct]]) {
  test(`approval end to end (${name}): the execution gets the payload and ends approved`, async () => {
    const order = uniq('ts');
    const exe = await startDev('approval', { orderId: order });
    await parked(c, `approval-${order}`);
    const hook = await c.resumeHook(`approval-${order}`, { approved: true, comment: 'LGTM' });
    assert.equal(hook.token, `approval-${order}`);
    assert.equal(hook.runId, exe);
    const out = await finished(exe);
    assert.equal(out.status, 'SUCCEEDED');
    assert.deepEqual(out.output, { orderId: order, decision: { approved: true, comment: 'LGTM' }, outcome: 'approved' });
  });
}

test('rejectHook (JWT bearer): the await fails with the error and cause', async () => {
  const order = uniq('ts');
  const exe = await startDev('approval', { orderId: order });
  await parked(bearer, `approval-${order}`);
  const hooks = await bearer.listHooks(exe, { state: 'waiting' });
  assert.deepEqual(hooks.hooks.map((h) => h.token), [`approval-${order}`]);
  await bearer.heartbeat(`approval-${order}`); // the await is parked: accepted
  await bearer.rejectHook({ token: `approval-${order}` }, 'OrderRejected', 'out of stock');
  const out = await finished(exe);
  assert.equal(out.status, 'FAILED');
  assert.equal(out.error, 'OrderRejected');
  assert.equal(out.cause, 'out of stock');
});

// allPages lists a state machine's hooks page by page with options (each
// page passes the previous one's cursor): the hooks in order and the number
// of pages.
async function allPages(c, machine, options = {}) {
  const hooks = [];
  let pages = 0;
  let cursor;
  do {
    const page = await c.listStateMachineHooks(machine, { ...options, cursor });
    assert.ok(page.hooks.length <= (options.limit ?? 25), `a page of ${page.hooks.length} hooks, limit ${options.limit}`);
    hooks.push(...page.hooks);
    cursor = page.cursor;
    assert.ok(++pages <= 50, 'the cursor comes to an end');
  } while (cursor);
  return { hooks, tokens: hooks.map((h) => h.token), pages };
}

test('operators (SigV4): a state machine\'s hooks across executions by tag, state and age, paged; disposeHook removes one', async () => {
  // A state machine of its own: its listing holds this test's hooks only.
  const machine = await ensureMachine(uniq('ops'), 'collect.asl.json');
  const [wa, wb] = [uniq('wa'), uniq('wb')];
  const exeA = await startSDK(machine, { token: wa, count: 1, pauseSeconds: 0 });
  await parked(signed, wa);
  const exeB = await startSDK(machine, { token: wb, count: 1, pauseSeconds: 0 });
  await parked(signed, wb);
  // Created one after the other: their ages are in this order.
  const [a1, a2, b1, b2] = [uniq('a1'), uniq('a2'), uniq('b1'), uniq('b2')];
  await hookTask({ action: 'create', token: a1, executionArn: exeA, tags: ['team:billing', 'customer:acme'] });
  await hookTask({ action: 'create', token: a2, executionArn: exeA, tags: ['customer:other'] });
  await hookTask({ action: 'create', token: b1, executionArn: exeB, tags: ['customer:acme'] });
  await hookTask({ action: 'create', token: b2, executionArn: exeB, tags: ['customer:acme'] });
  await signed.resumeHook(b1, { n: 1 }); // no await on b1: stored, b1 is pending

  const oldest = [wa, wb, a1, a2, b1, b2];
  // The index is eventually consistent: wait for the six, then the listings are exact.
  await until('the six hooks listed', async () => (await allPages(signed, machine)).hooks.length === 6);
  const all = await allPages(signed, machine, { order: 'oldest', limit: 2 });
  assert.deepEqual(all.tokens, oldest);
  assert.ok(all.pages >= 3, `${all.pages} pages of 2 for 6 hooks`);
  assert.deepEqual((await allPages(signed, machine, { limit: 4 })).tokens, [...oldest].reverse(), 'newest first by default');

  const acme = await allPages(signed, machine, { tag: 'customer:acme', order: 'oldest', limit: 1 });
  assert.deepEqual(acme.tokens, [a1, b1, b2]);
  assert.ok(acme.pages >= 3, `${acme.pages} pages of 1 for 3 hooks`);
  const [h1, hb1] = acme.hooks;
  assert.deepEqual(h1.tags, ['customer:acme', 'team:billing'], 'sorted');
  assert.equal(h1.executionArn, exeA);
  assert.equal(h1.runId, exeA);
  assert.equal(hb1.executionArn, exeB);
  assert.equal(hb1.pending, 1);
  assert.deepEqual((await allPages(signed, machine, { tag: 'customer:acme', order: 'newest', limit: 1 })).tokens, [b2, b1, a1]);

  const waiting = await allPages(signed, machine, { state: 'waiting', order: 'oldest' });
  assert.deepEqual(waiting.tokens, [wa, wb]);
  assert.ok(waiting.hooks.every((h) => h.waiting && h.pending === 0));
  assert.deepEqual((await allPages(signed, machine, { state: 'pending' })).tokens, [b1]);
  assert.deepEqual((await allPages(signed, machine, { state: 'idle', order: 'oldest' })).tokens, [a1, a2, b2]);
  assert.deepEqual((await allPages(signed, machine, { state: 'idle', tag: 'customer:acme', order: 'oldest', limit: 1 })).tokens, [a1, b2]);

  // A cursor is only good for its own listing.
  const first = await signed.listStateMachineHooks(machine, { order: 'oldest', limit: 1 });
  assert.ok(first.cursor);
  await assert.rejects(signed.listStateMachineHooks(machine, { order: 'newest', limit: 1, cursor: first.cursor }),
    (e) => e instanceof InvalidRequestError && e.status === 400);

  // Dispose a2: gone for GET and from the listing; again, it is already gone: success.
  await signed.disposeHook(a2, exeA);
  await assert.rejects(signed.getHookByToken(a2), (e) => e instanceof HookNotFoundError && e.status === 404);
  await signed.disposeHook(a2, exeA);
  assert.deepEqual((await allPages(signed, machine, { order: 'oldest' })).tokens, [wa, wb, a1, b1, b2]);

  // Given as listed, only that hook is disposed (its hookId): a hook of another id under the token (as if
  // exeA had disposed it and created it again since) answers HookConflictError, and nothing changes.
  await assert.rejects(signed.disposeHook({ ...waiting.hooks[0], hookId: '0'.repeat(32) }),
    (e) => e instanceof HookConflictError && e.status === 409);
  assert.equal((await signed.getHookByToken(waiting.hooks[0].token)).waiting, true);

  // Dispose the hook exeA waits on, given as listed (its executionArn): the await fails with HookDisposedError.
  await signed.disposeHook(waiting.hooks[0]);
  const outA = await finished(exeA);
  assert.equal(outA.status, 'FAILED');
  assert.equal(outA.error, 'HookDisposedError');
  await signed.resumeHook(wb, { done: true });
  const outB = await finished(exeB);
  assert.equal(outB.status, 'SUCCEEDED');
  assert.deepEqual(outB.output.received, [{ done: true }]);

  // A malformed stateMachineArn (an execution's), and a dispose without its execution.
  await assert.rejects(signed.listStateMachineHooks(exeA), (e) => e instanceof InvalidRequestError && e.status === 400 && e.code === 'InvalidRequest');
  await assert.rejects(signed.disposeHook(b2, ''), (e) => e instanceof InvalidRequestError && e.status === 400);
});

// webhookOf waits for the execution's webhook to be listed; its token.
async function webhookOf(exe) {
  return until('the execution\'s webhook', async () => (await client.listHooks(exe)).hooks.find((h) => h.kind === 'webhook'))
    .then((h) => h.token);
}

test('resumeWebhook, static response: the Response is the webhook\'s, the workflow gets the Request', async () => {
  const machine = await ensureMachine('webhook', 'webhook.asl.json');
  const exe = await startSDK(machine, {
    respondWith: { status: 201, headers: { 'content-type': 'text/plain', 'x-static': 'yes' }, body: 'thanks' },
    pauseSeconds: 0, respondAfterSeconds: 0, respond: false,
  });
  const token = await webhookOf(exe);
  const resp = await client.resumeWebhook(token, new Request('https://app.example/api/cb?order=7', {
    method: 'POST', headers: { 'content-type': 'application/json', 'x-provider': 'acme' }, body: '{"paid":true}',
  }));
  assert.equal(resp.status, 201);
  assert.equal(resp.headers.get('x-static'), 'yes');
  assert.equal(await resp.text(), 'thanks');
  const out = await finished(exe);
  assert.equal(out.status, 'SUCCEEDED');
  assert.equal(out.output.request.method, 'POST');
  assert.equal(out.output.request.body, '{"paid":true}');
  assert.deepEqual(out.output.request.headers['x-provider'], ['acme']);
  assert.match(out.output.request.url, /\?order=7$/);
});

for (const [name, c] of [['HTTP API', client], ['Lambda invoke', direct]]) {
  test(`resumeWebhook, manual response (${name}): the workflow's answer reaches the Response`, async () => {
    const machine = await ensureMachine('webhook', 'webhook.asl.json');
    const exe = await startSDK(machine, {
      respondWith: 'manual', pauseSeconds: 0, respondAfterSeconds: 0, respond: true,
      response: { status: 200, headers: { 'content-type': 'application/json' }, body: '{"ok":true,"by":"workflow"}' },
    });
    const token = await webhookOf(exe);
    const resp = await c.resumeWebhook(token, new Request('https://app.example/cb', { method: 'PUT', body: 'hello' }));
    assert.equal(resp.status, 200);
    assert.deepEqual(await resp.json(), { ok: true, by: 'workflow' });
    const out = await finished(exe);
    assert.equal(out.status, 'SUCCEEDED');
    assert.equal(out.output.request.method, 'PUT');
    assert.equal(out.output.request.body, 'hello');
  });
}

// Standard Webhooks signature of the payment example's secret (make dev's .state file).
function paymentHeaders(body, { bad = false } = {}) {
  const id = uniq('msg');
  const ts = Math.floor(Date.now() / 1000).toString();
  const key = Buffer.from(dev.paymentSecret.value.replace(/^whsec_/, ''), 'base64');
  const sig = createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest('base64');
  return { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': `v1,${bad ? (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1) : sig}` };
}

test('resumeWebhook, the payment example (verified, manual): 200 OK to the caller, the payment in the output; a bad signature is InvalidSignatureError', async () => {
  const checkout = uniq('co');
  const exe = await startDev('payment', { checkoutId: checkout });
  const token = await webhookOf(exe);
  const body = JSON.stringify({ checkoutId: checkout, amount: 4200 });
  await assert.rejects(client.resumeWebhook(token, new Request('https://psp.example/', { method: 'POST', headers: paymentHeaders(body, { bad: true }), body })),
    (err) => err instanceof InvalidSignatureError && err.status === 401);
  const resp = await client.resumeWebhook(token, new Request('https://psp.example/', { method: 'POST', headers: paymentHeaders(body), body }));
  assert.equal(resp.status, 200);
  assert.equal(await resp.text(), 'OK');
  const out = await finished(exe);
  assert.equal(out.status, 'SUCCEEDED');
  assert.deepEqual(out.output, { checkoutId: checkout, payment: { checkoutId: checkout, amount: 4200 } });
});

test('sealed resume: the sealed example\'s await gets an envelope of the payload, which opens to it', async () => {
  const order = uniq('ts');
  const exe = await startDev('sealed-approval', { orderId: order });
  await parked(client, `approval-${order}`);
  // The hook's own key is allowed as override; another key is refused and nothing is stored.
  await assert.rejects(client.resumeHook(`approval-${order}`, { approved: false }, 'alias/not-the-hooks-key'),
    (err) => err instanceof EncryptionKeyRefusedError && err.status === 400);
  const hook = await client.resumeHook(`approval-${order}`, { approved: true, card: '4242' }, { encryptionKeyOverride: dev.kmsKeyArn });
  assert.equal(hook.encrypt.kmsKeyId, dev.kmsKeyArn);
  const out = await finished(exe);
  assert.equal(out.status, 'SUCCEEDED');
  assert.equal(out.output.sealed['sfnhooks:sealed'], 2);
  assert.ok(!JSON.stringify(out.output.sealed).includes('4242'), 'the envelope holds no plaintext');
  assert.deepEqual(out.output.opened.payload, { approved: true, card: '4242' });
  assert.equal(out.output.outcome, 'approved');
});

test('encryption key override on a plain hook: the workflow receives a sealed envelope', async () => {
  const machine = await ensureMachine('collect', 'collect.asl.json');
  const token = uniq('seal');
  const exe = await startSDK(machine, { token, count: 1, pauseSeconds: 0 });
  await created(token);
  await client.resumeHook(token, { secret: 's3cr3t' }, dev.kmsKeyArn); // the toolkit's third argument
  const out = await finished(exe);
  assert.equal(out.status, 'SUCCEEDED');
  const [env] = out.output.received;
  assert.equal(env['sfnhooks:sealed'], 2);
  assert.equal(env.keyId, dev.kmsKeyArn);
  assert.ok(!JSON.stringify(env).includes('s3cr3t'));
});

test('idempotent retry: the same key and payload is applied once; another payload with it is IdempotencyKeyMismatchError', async () => {
  const machine = await ensureMachine('collect', 'collect.asl.json');
  const token = uniq('idem');
  const exe = await startSDK(machine, { token, count: 2, pauseSeconds: 1 });
  await created(token);
  const key = uniq('key');
  const first = await client.resumeHook(token, { n: 1 }, { idempotencyKey: key });
  const again = await client.resumeHook(token, { n: 1 }, { idempotencyKey: key });
  assert.equal(again.hookId, first.hookId);
  await assert.rejects(client.resumeHook(token, { n: 99 }, { idempotencyKey: key }),
    (err) => err instanceof IdempotencyKeyMismatchError && err.status === 422);
  await client.resumeHook(token, { n: 2 });
  const out = await finished(exe);
  assert.equal(out.status, 'SUCCEEDED');
  assert.deepEqual(out.output.received, [{ n: 1 }, { n: 2 }], 'each payload once, in order');
});

// dropFirstAnswer is a proxy to make dev that forwards every request but,
// for the first POST, closes the connection instead of answering: a lost
// answer after an applied write, which make dev cannot produce by itself.
async function dropFirstAnswer() {
  const seen = [];
  let dropped = false;
  const target = new URL(dev.apiUrl);
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, key: req.headers['idempotency-key'] });
      const up = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (upRes) => {
        const body = [];
        upRes.on('data', (c) => body.push(c));
        upRes.on('end', () => {
          if (req.method === 'POST' && !dropped) {
            dropped = true;
            req.socket.destroy(); // the write was applied; its answer is lost
            return;
          }
          res.writeHead(upRes.statusCode, upRes.headers);
          res.end(Buffer.concat(body));
        });
      });
      up.end(Buffer.concat(chunks));
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}`, seen, close: () => new Promise((r) => server.close(r)) };
}

test('transient failure: a lost answer is retried with the same idempotency key, and the execution gets the payload once', async () => {
  const machine = await ensureMachine('collect', 'collect.asl.json');
  const token = uniq('lost');
  const exe = await startSDK(machine, { token, count: 2, pauseSeconds: 1 });
  await created(token);
  const proxy = await dropFirstAnswer();
  try {
    const c = new SfnhooksClient({ endpoint: proxy.url });
    const hook = await c.resumeHook(token, { n: 1 });
    assert.equal(hook.token, token);
  } finally {
    await proxy.close();
  }
  await client.resumeHook(token, { n: 2 });
  const out = await finished(exe);
  assert.equal(out.status, 'SUCCEEDED');
  assert.deepEqual(out.output.received, [{ n: 1 }, { n: 2 }], 'the retried payload was stored once');
  const posts = proxy.seen.filter((s) => s.method === 'POST');
  assert.equal(posts.length, 2, 'one retry after the lost answer');
  assert.ok(posts[0].key, 'an idempotency key is sent without being asked for');
  assert.equal(posts[1].key, posts[0].key, 'the retry carries the same key');
});

test('error classes the dev stack answers, over HTTP', async () => {
  const exe = fakeExecution();
  await assert.rejects(client.resumeHook(uniq('unknown'), {}), (e) => e instanceof HookNotFoundError && e.status === 404 && e.code === 'HookNotFound');
  await assert.rejects(client.getHookByToken('bad\u0001token'), (e) => e instanceof InvalidTokenError && e.status === 400);
  await assert.rejects(client.listHooks(''), (e) => e instanceof InvalidRequestError && e.status === 400);

  const capped = uniq('cap');
  await hookTask({ action: 'create', token: capped, executionArn: exe, maxPending: 1 });
  await client.resumeHook(capped, { n: 1 });
  await assert.rejects(client.resumeHook(capped, { n: 2 }), (e) => e instanceof TooManyPendingError && e.status === 429 && e.retryAfterSeconds === 5);
  await assert.rejects(client.heartbeat(capped), (e) => e instanceof HookNotWaitingError && e.status === 404);
  await assert.rejects(client.rejectHook(capped, ''), (e) => e instanceof InvalidPayloadError && e.status === 400);

  const big = uniq('big');
  await hookTask({ action: 'create', token: big, executionArn: exe });
  await assert.rejects(client.resumeHook(big, { blob: 'x'.repeat(300 * 1024) }), (e) => e instanceof PayloadTooLargeError && e.status === 413);

  const typed = uniq('schema');
  await hookTask({ action: 'create', token: typed, executionArn: exe, schema: { type: 'object', required: ['approved'], properties: { approved: { type: 'boolean' } } } });
  await assert.rejects(client.resumeHook(typed, { approved: 'yes' }), (e) => e instanceof SchemaValidationError && e.status === 422 && e.details.length > 0);
  const ok = await client.resumeHook(typed, { approved: true });
  assert.equal(ok.token, typed);

  await assert.rejects(client.resumeWebhook(uniq('nowebhook'), new Request('https://x.example/', { method: 'POST', body: '{}' })),
    (e) => e instanceof HookNotFoundError && e.status === 404);
  const slow = await hookTask({ action: 'createWebhook', executionArn: exe, respondWith: { mode: 'manual', deadlineMs: 500 } });
  await assert.rejects(client.resumeWebhook(slow.token, new Request('https://x.example/', { method: 'POST', body: '{}' })),
    (e) => e instanceof WebhookResponseTimeoutError && e.status === 504);
});

test('error classes over a direct Lambda invoke: the errorType maps to the same classes', async () => {
  const exe = fakeExecution();
  await assert.rejects(direct.resumeHook(uniq('unknown'), {}), (e) => e instanceof HookNotFoundError && e.status === 404);
  const capped = uniq('cap');
  await hookTask({ action: 'create', token: capped, executionArn: exe, maxPending: 1 });
  await direct.resumeHook(capped, 1);
  await assert.rejects(direct.resumeHook(capped, 2), (e) => e instanceof TooManyPendingError && e.retryAfterSeconds === 5);
  await assert.rejects(direct.heartbeat(capped), (e) => e instanceof HookNotWaitingError);
  const st = await direct.getHookByToken(capped);
  assert.equal(st.pending, 1);
  assert.equal((await direct.listHooks(exe)).hooks.length, 1);
  await assert.rejects(direct.resumeWebhook(uniq('nowebhook'), new Request('https://x.example/', { method: 'POST', body: '{}' })),
    (e) => e instanceof HookNotFoundError);
});

test('listStateMachineHooks and disposeHook over a direct Lambda invoke', async () => {
  const exe = fakeExecution(); // of state machine sfnhooks-clients-ts
  const machine = exe.replace(':execution:', ':stateMachine:').replace(/:[^:]+$/, '');
  const tag = `run:${uniq('d')}`;
  const [t1, t2] = [uniq('d1'), uniq('d2')];
  await hookTask({ action: 'create', token: t1, executionArn: exe, tags: [tag] });
  await hookTask({ action: 'create', token: t2, executionArn: exe, tags: [tag] });
  await until('both listed', async () => (await allPages(direct, machine, { tag })).hooks.length === 2);
  const page = await allPages(direct, machine, { tag, order: 'oldest', limit: 1 });
  assert.deepEqual(page.tokens, [t1, t2]);
  await direct.disposeHook(page.hooks[0]); // its executionArn
  await assert.rejects(direct.getHookByToken(t1), (e) => e instanceof HookNotFoundError && e.status === 404);
  assert.deepEqual((await allPages(direct, machine, { tag })).tokens, [t2]);
  await assert.rejects(direct.listStateMachineHooks('not-an-arn'), (e) => e instanceof InvalidRequestError && e.status === 400);
});

test('timeoutMs and signal abort a call', async () => {
  const server = http.createServer(() => {}); // never answers
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  try {
    const c = new SfnhooksClient({ endpoint: `http://127.0.0.1:${server.address().port}` });
    await assert.rejects(c.resumeHook('t', {}, { timeoutMs: 200 }), (e) => e.name === 'TimeoutError');
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(new Error('stop')), 100);
    await assert.rejects(c.getHookByToken('t', { signal: ctl.signal }), /stop/);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
  assert.ok(new SfnhooksError('x') instanceof Error);
  await sleep(0);
});
