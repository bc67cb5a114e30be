// Time of one resume with the TypeScript client against a running make dev:
// N approval executions are started and parked, then each is resumed once
// (delivered to its parked await: GetItem/UpdateItem/SendTaskSuccess behind
// the API). Prints the median, p90 and the first call (module and
// connection set-up included).
//   node clients/bench/resume.mjs [.state/dev.json] [N=20] [transport=http|sigv4|lambda]
import { readFileSync } from 'node:fs';
import { SfnhooksClient } from '../typescript/src/index.js';

const dev = JSON.parse(readFileSync(process.argv[2] ?? '.state/dev.json', 'utf8'));
const n = Number(process.argv[3] ?? 20);
const transport = process.argv[4] ?? 'http';
const opts = {
  http: { endpoint: dev.apiUrl },
  sigv4: { endpoint: dev.apiUrl, auth: 'sigv4', region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } },
  lambda: { lambda: { endpoint: dev.bridgeUrl, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, resumeHookFunction: dev.functions.resumeHook } },
}[transport];
const client = new SfnhooksClient(opts);
const run = `bench-${Date.now().toString(36)}`;
const tokens = [];
for (let i = 0; i < n; i++) {
  await fetch(`${dev.apiUrl}/dev/executions/approval`, { method: 'POST', body: JSON.stringify({ orderId: `${run}-${i}` }) });
  tokens.push(`approval-${run}-${i}`);
}
const probe = new SfnhooksClient({ endpoint: dev.apiUrl });
for (const t of tokens) {
  while (!(await probe.getHookByToken(t).catch(() => ({}))).waiting) await new Promise((r) => setTimeout(r, 100));
}
const ms = [];
for (const t of tokens) {
  const start = process.hrtime.bigint();
  await client.resumeHook(t, { approved: true });
  ms.push(Number(process.hrtime.bigint() - start) / 1e6);
}
const sorted = [...ms].sort((a, b) => a - b);
const q = (p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
console.log(`typescript ${transport}: ${n} resumes, median ${q(0.5).toFixed(1)} ms, p90 ${q(0.9).toFixed(1)} ms, first ${ms[0].toFixed(1)} ms`);
