// Every documented error code becomes its own class: a local server answers
// each code with its status, as the API would. A fake, because most codes
// come from routes or faults the dev stack does not produce on demand
// (HookConflict of hook-task, Contention, InternalError, WebhookGone, …);
// test/dev.test.js gets the ones it can from make dev itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { SfnhooksClient, ERROR_CLASSES, ERROR_STATUS, SfnhooksError, InternalError, ContentionError, isTransient } from '../src/index.js';

const contract = JSON.parse(readFileSync(new URL('../src/contract.json', import.meta.url)));

async function serve(handler) {
  const server = http.createServer(handler);
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) };
}

test('one class per code of contract.json, named after it', () => {
  assert.deepEqual(Object.keys(ERROR_CLASSES).sort(), Object.keys(contract.errors).sort());
  assert.deepEqual(ERROR_STATUS, contract.errors);
  for (const [code, Cls] of Object.entries(ERROR_CLASSES)) {
    assert.equal(Cls.name, code.endsWith('Error') ? code : `${code}Error`);
    assert.ok(Cls.prototype instanceof SfnhooksError);
  }
});

test('each code answered by the API is thrown as its class, with status, code and Retry-After', async () => {
  let code;
  const srv = await serve((req, res) => {
    const h = { 'content-type': 'application/json' };
    if (ERROR_STATUS[code] === 429) h['retry-after'] = '7';
    res.writeHead(ERROR_STATUS[code], h);
    res.end(JSON.stringify({ error: code, message: `m-${code}`, ...(code === 'SchemaValidation' ? { details: [{ instanceLocation: '', keywordLocation: '/required', error: 'x' }] } : {}) }));
  });
  try {
    const c = new SfnhooksClient({ endpoint: srv.url, maxRetries: 0 });
    for (code of Object.keys(ERROR_STATUS)) {
      await assert.rejects(c.getHookByToken('t'), (e) => {
        assert.ok(e instanceof ERROR_CLASSES[code], `${code}: got ${e.constructor.name}`);
        assert.equal(e.code, code);
        assert.equal(e.status, ERROR_STATUS[code]);
        assert.match(e.message, new RegExp(`m-${code}`));
        if (ERROR_STATUS[code] === 429) assert.equal(e.retryAfterSeconds, 7);
        if (code === 'SchemaValidation') assert.equal(e.details.length, 1);
        return true;
      });
    }
  } finally {
    await srv.close();
  }
});

test('API Gateway\'s own answer (no code) is an SfnhooksError with the status', async () => {
  const srv = await serve((req, res) => { res.writeHead(403, { 'content-type': 'application/json' }); res.end('{"message":"Forbidden"}'); });
  try {
    await assert.rejects(new SfnhooksClient({ endpoint: srv.url }).resumeHook('t', {}), (e) => e.constructor === SfnhooksError && e.status === 403 && e.code === '');
  } finally {
    await srv.close();
  }
});

test('Contention and InternalError are retried with the same idempotency key; other errors are not', async () => {
  const keys = [];
  let answers = [];
  const srv = await serve((req, res) => {
    keys.push(req.headers['idempotency-key']);
    const [status, body] = answers.shift();
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  try {
    const c = new SfnhooksClient({ endpoint: srv.url });
    answers = [[503, { error: 'Contention', message: '' }], [500, { error: 'InternalError', message: '' }], [200, { token: 't', executionArn: 'e' }]];
    const hook = await c.resumeHook('t', { a: 1 });
    assert.equal(hook.runId, 'e');
    assert.equal(keys.length, 3);
    assert.ok(keys.every((k) => k === keys[0]));

    keys.length = 0;
    answers = Array(10).fill([500, { error: 'InternalError', message: '' }]);
    await assert.rejects(c.resumeHook('t', {}), InternalError);
    assert.equal(keys.length, 4, 'maxRetries (3) retries, then the error');

    keys.length = 0;
    answers = [[404, { error: 'HookNotFound', message: '' }]];
    await assert.rejects(c.resumeHook('t', {}), (e) => e.code === 'HookNotFound');
    assert.equal(keys.length, 1);
  } finally {
    await srv.close();
  }
  assert.ok(isTransient(new ContentionError('x', { code: 'Contention', status: 503 })));
});
