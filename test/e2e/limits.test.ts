// What trr cannot do yet must fail clearly, never hang or replay wrongly;
// and what it promises about traces must hold (replay after the binary is
// gone).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { buildProgram, manifest, trr, withOutputDir, type ProgramSpec } from '../support/harness.js';

const spin: ProgramSpec = { name: 'spin_wait', source: 'spin_wait.c', lang: 'c', expect: { exit: 0 } };

test('a thread spinning on another thread without syscalls stops the recording with an explanation', async () => {
  await withOutputDir('limits-spin-thread', (dir) => {
    const r = trr(['record', '-o', join(dir, 't'), buildProgram(spin), 'threads'], { cwd: dir, timeoutMs: 60_000 });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /is spinning in user code without system calls while thread\(s\) \d+ wait to run/);
    assert.match(r.stderr, /not supported yet/);
  });
});

test('a signal awaited in a syscall-free loop stops the recording with an explanation', async () => {
  await withOutputDir('limits-spin-signal', (dir) => {
    const r = trr(['record', '-o', join(dir, 't'), buildProgram(spin), 'signal'], { cwd: dir, timeoutMs: 60_000 });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /signal SIGALRM arrived while thread \d+ was running code that makes no system calls/);
  });
});

test('replay works after the recorded binary is deleted or rebuilt', async () => {
  await withOutputDir('limits-binary-gone', (dir) => {
    const bin = join(dir, 'prog');
    copyFileSync(buildProgram(manifest().find((p) => p.name === 'files')!), bin);
    const trace = join(dir, 't');
    const rec = trr(['record', '-o', trace, bin], { cwd: dir });
    assert.equal(rec.status, 0, rec.stderr);
    rmSync(bin);
    const rep = trr(['replay', '-a', trace]);
    assert.equal(rep.status, 0, rep.stderr);
    assert.equal(rep.stdout, rec.stdout);
    copyFileSync(buildProgram(manifest().find((p) => p.name === 'identity')!), bin); // "rebuilt": a different program at the same path
    const rep2 = trr(['replay', '-a', trace]);
    assert.equal(rep2.status, 0, rep2.stderr);
    assert.equal(rep2.stdout, rec.stdout);
  });
});
