// The .d.ts files describe the API: tsc (strict) compiles test/types/usage.ts,
// which imports the package by its name (a self-reference through
// package.json's exports) and calls every export as a user would, with
// @ts-expect-error on calls the types must refuse.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const pkgDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

test('tsc --noEmit (strict) accepts the documented uses and refuses the wrong ones', () => {
  const tsc = path.join(pkgDir, 'node_modules', 'typescript', 'bin', 'tsc');
  const out = spawnSync(process.execPath, [tsc, '-p', path.join(pkgDir, 'test', 'types', 'tsconfig.json')], { encoding: 'utf8' });
  assert.equal(out.status, 0, out.stdout + out.stderr);
});
