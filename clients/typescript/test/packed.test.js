// The package as a user gets it: npm pack, installed from the tarball in a
// temporary folder outside the repository, and a script there that imports
// it by name and resumes an execution of make dev's approval example.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { dev, uniq, startDev, finished } from './dev.js';

const pkgDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

test('npm pack, install from the tarball elsewhere, resume an execution by the package name', { timeout: 300000 }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sfnhooks-ts-packed-'));
  try {
    const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', dir], { cwd: pkgDir, encoding: 'utf8' }));
    const tarball = path.join(dir, packed[0].filename);
    const files = packed[0].files.map((f) => f.path).sort();
    assert.deepEqual(files, ['README.md', 'package.json', 'src/contract.js', 'src/contract.json', 'src/errors.d.ts', 'src/errors.js', 'src/index.d.ts', 'src/index.js']);
    assert.ok(statSync(tarball).size > 0);
    const app = path.join(dir, 'app');
    execFileSync('mkdir', ['-p', app]);
    writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', tarball], { cwd: app, stdio: 'inherit' });
    writeFileSync(path.join(app, 'resume.mjs'), [
      "import { resumeHook, getHookByToken } from '@sfnhooks/client';",
      'const token = process.argv[2];',
      'for (let i = 0; i < 300 && !(await getHookByToken(token).catch(() => ({}))).waiting; i++) await new Promise((r) => setTimeout(r, 100));',
      "const hook = await resumeHook(token, { approved: true, comment: 'from the packed package' });",
      'console.log(JSON.stringify(hook));',
    ].join('\n'));
    const order = uniq('packed');
    const exe = await startDev('approval', { orderId: order });
    const stdout = execFileSync('node', ['resume.mjs', `approval-${order}`], { cwd: app, encoding: 'utf8', env: { ...process.env, SFNHOOKS_ENDPOINT: dev.apiUrl } });
    assert.equal(JSON.parse(stdout).runId, exe);
    const out = await finished(exe);
    assert.equal(out.status, 'SUCCEEDED');
    assert.deepEqual(out.output.decision, { approved: true, comment: 'from the packed package' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
