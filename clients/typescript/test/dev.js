// Fixtures of the tests: make dev's stack (scripts/test-clients.sh starts it
// and names its .state file in SFNHOOKS_DEV_STATE), executions of its example
// state machines, and two more examples (collect, webhook) created here with
// the AWS SDK against the stack's AWS endpoint.
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { SFNClient, CreateStateMachineCommand, UpdateStateMachineCommand, StartExecutionCommand, DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { LambdaClient, InvokeCommand } from '@aws-sdk/client-lambda';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

function loadDev() {
  const file = process.env.SFNHOOKS_DEV_STATE;
  if (!file) throw new Error('SFNHOOKS_DEV_STATE is not set: run make test-clients (scripts/test-clients.sh), which starts make dev for these tests');
  return JSON.parse(readFileSync(file, 'utf8'));
}
export const dev = loadDev();
const aws = { region: 'us-east-1', endpoint: dev.bridgeUrl, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
export const awsOptions = aws;
const sfn = new SFNClient(aws);
const lambda = new LambdaClient(aws);

export const uniq = (p) => `${p}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The lambda transport's options for make dev. */
export const lambdaOptions = {
  ...aws,
  resumeHookFunction: dev.functions.resumeHook,
  resumeWebhookFunction: dev.functions.resumeWebhook,
};

const machines = {};
/** ensureMachine creates (or updates) examples/<file> as state machine name; its ARN. */
export async function ensureMachine(short, file) {
  if (machines[short]) return machines[short];
  const def = readFileSync(path.join(ROOT, 'examples', file), 'utf8').replaceAll('${HookTaskFunctionArn}', dev.functions.hookTask).replaceAll('${AwaitTimeoutSeconds}', '86400');
  const name = `sfnhooks-clients-ts-${short}`;
  const role = 'arn:aws:iam::123456789012:role/sfnhooks-example';
  try {
    machines[short] = (await sfn.send(new CreateStateMachineCommand({ name, definition: def, roleArn: role }))).stateMachineArn;
  } catch (err) {
    if (err.name !== 'StateMachineAlreadyExists') throw err;
    const arn = `arn:aws:states:us-east-1:123456789012:stateMachine:${name}`;
    await sfn.send(new UpdateStateMachineCommand({ stateMachineArn: arn, definition: def }));
    machines[short] = arn;
  }
  return machines[short];
}

/** start starts an execution of one of make dev's examples (its helper route); its ARN. */
export async function startDev(machine, input) {
  const r = await fetch(`${dev.apiUrl}/dev/executions/${machine}`, { method: 'POST', body: JSON.stringify(input) });
  if (!r.ok) throw new Error(`start ${machine}: ${r.status} ${await r.text()}`);
  return (await r.json()).executionArn;
}

/** startSDK starts an execution of a machine created by ensureMachine; its ARN. */
export async function startSDK(machineArn, input) {
  return (await sfn.send(new StartExecutionCommand({ stateMachineArn: machineArn, name: uniq("exe"), input: JSON.stringify(input) }))).executionArn;
}

/** finished waits for the execution to end: {status, output, error, cause}. */
export async function finished(executionArn, ms = 60000) {
  for (const deadline = Date.now() + ms; ; await sleep(100)) {
    const d = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (d.status !== 'RUNNING') return { status: d.status, output: d.output ? withoutSettings(JSON.parse(d.output)) : undefined, error: d.error, cause: d.cause };
    if (Date.now() > deadline) throw new Error(`execution ${executionArn} still RUNNING after ${ms} ms`);
  }
}

/** withoutSettings drops the examples' $.settings (their await timeout, set by
 * a first Pass state): the assertions are about what the workflow received. */
function withoutSettings(output) {
  if (output && typeof output === 'object' && !Array.isArray(output)) delete output.settings;
  return output;
}

/** until polls fn until it returns a truthy value. */
export async function until(what, fn, ms = 30000) {
  for (const deadline = Date.now() + ms; ; await sleep(100)) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
  }
}

/** hookTask invokes make dev's hook-task function (to create hooks with a schema, a cap, …). */
export async function hookTask(event) {
  const out = await lambda.send(new InvokeCommand({ FunctionName: dev.functions.hookTask, Payload: new TextEncoder().encode(JSON.stringify(event)) }));
  const body = JSON.parse(new TextDecoder().decode(out.Payload));
  if (out.FunctionError) throw new Error(`hook-task ${event.action}: ${JSON.stringify(body)}`);
  return body;
}

export const fakeExecution = () => `arn:aws:states:us-east-1:123456789012:execution:sfnhooks-clients-ts:${uniq('x')}`;
