// Diversions under gdb: `print f(3)`, `call f()`, `set var` and register
// writes run in a throw-away copy of the replay, and the replay the user
// resumes afterwards is the recorded one. Each test runs the same gdb
// script on trr's replay of test/programs/calls.c with and without the
// calls, and the answers of everything else must be the same.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildProgram, manifest, repoRoot, trr, withOutputDir } from '../support/harness.js';

const bin = () => buildProgram(manifest().find((p) => p.name === 'calls')!);

function loopLine(): string {
  const i = readFileSync(join(repoRoot, 'test', 'programs', 'calls.c'), 'utf8').split('\n').findIndex((l) => l.includes('/* L_loop */'));
  return `calls.c:${i + 1}`;
}

function gdbOnReplay(dir: string, trace: string, name: string, lines: readonly string[]): { out: string; err: string } {
  const file = join(dir, `${name}.gdb`);
  writeFileSync(file, ['set pagination off', ...lines].join('\n') + '\n');
  const env = { ...process.env, TRR_CHECKPOINT_INTERVAL_MS: '0' };
  const r = trr(['replay', trace, '--', '-nx', '-batch', '-x', file], { timeoutMs: 120_000, env });
  writeFileSync(join(dir, `${name}.log`), `${r.stdout}\n--- stderr\n${r.stderr}`);
  assert.equal(r.status, 0, r.stderr);
  return { out: r.stdout, err: r.stderr };
}

/** `print` values; those of lines marked `C:` (the calls) are left out. */
function values(out: string, skip: ReadonlySet<number>): string[] {
  return [...out.matchAll(/^\$(\d+) = (.*)$/gm)].filter((m) => !skip.has(Number(m[1]))).map((m) => m[2]!);
}

test('print f(3) in the middle of a replay; then reverse-continue and continue answer as without it', async () => {
  await withOutputDir('gdb-diversion-print', (dir) => {
    const trace = join(dir, 'trace');
    assert.equal(trr(['record', '-n', '-o', trace, bin()], { cwd: dir }).status, 0);
    const body = [
      `break ${loopLine()}`, 'continue', 'continue', 'continue', 'print counter', 'print i',
      'C:print twice(3)', 'C:print twice(counter)', 'C:call say()',
      'print counter', 'print $pc', 'reverse-continue', 'print counter', 'print i',
      'C:print twice(10)',
      'reverse-continue', 'print i', 'continue', 'continue', 'print counter', 'print i', 'delete', 'continue',
    ];
    const withCalls = gdbOnReplay(dir, trace, 'with', ['break main', 'continue', ...body.map((l) => l.replace(/^C:/, ''))]);
    const without = gdbOnReplay(dir, trace, 'without', ['break main', 'continue', ...body.filter((l) => !l.startsWith('C:'))]);
    // $3 $4 $5 and $10 are the calls' values.
    const calls = [...withCalls.out.matchAll(/^\$(3|4|5|10) = (.*)$/gm)].map((m) => m[2]);
    // At the third hit i = 2 and counter = 0 + 1 = 1: twice(3) = 7, twice(1) = 3, say() wrote 17 bytes; one hit back counter = 0.
    assert.deepEqual(calls, ['7', '3', '17', '20'], withCalls.out);
    assert.match(withCalls.out, /^said from a call$/m);
    const expected = values(without.out, new Set());
    assert.ok(expected.length >= 9, without.out);
    assert.deepEqual(values(withCalls.out, new Set([3, 4, 5, 10])), expected);
    // The program's own output, as recorded, once.
    assert.equal([...withCalls.out.matchAll(/^counter \d+$/gm)].map((m) => m[0]).join(','), 'counter 0,counter 1,counter 3,counter 6');
  });
});

test('set var and register writes last until the next resume; the replay then goes on as recorded', async () => {
  await withOutputDir('gdb-diversion-set', (dir) => {
    const trace = join(dir, 'trace');
    assert.equal(trr(['record', '-n', '-o', trace, bin()], { cwd: dir }).status, 0);
    const script = [
      'break main', 'continue', `break ${loopLine()}`, 'continue', 'continue',
      'set var counter = 50', 'print counter', 'set var i = 3', 'print i', 'print twice(1)', 'set var $rbx = 0x1234', 'print/x $rbx',
      'next', 'print counter', 'print i', 'continue', 'print counter', 'print i', 'delete', 'continue',
    ];
    const { out } = gdbOnReplay(dir, trace, 'set', script);
    const v = values(out, new Set());
    // In the copy: counter 50, i 3, twice(1) = 52, rbx 0x1234.
    assert.deepEqual(v.slice(0, 4), ['50', '3', '52', '0x1234']);
    // `next` dropped the copy: the replay at the second hit (i = 1) runs `counter += i` as recorded.
    assert.deepEqual(v.slice(4), ['1', '1', '1', '2']);
    assert.equal([...out.matchAll(/^counter \d+$/gm)].map((m) => m[0]).join(','), 'counter 0,counter 1,counter 3,counter 6');
  });
});

test('a call that makes an outside-world syscall gets ENOSYS and a message; one that faults leaves the replay intact', async () => {
  await withOutputDir('gdb-diversion-syscalls', (dir) => {
    const trace = join(dir, 'trace');
    assert.equal(trr(['record', '-n', '-o', trace, bin()], { cwd: dir }).status, 0);
    const target = join(dir, 'created-by-a-call');
    const script = [
      'break main', 'continue', `break ${loopLine()}`, 'continue',
      `print touch("${target}")`,
      // gdb reports the fault as an error, which would end a batch script.
      'python\ntry:\n    gdb.execute("print crash()")\nexcept gdb.error as e:\n    print("call failed:", e)\nend',
      'print counter', 'continue', 'print counter', 'print i',
    ];
    const { out, err } = gdbOnReplay(dir, trace, 'syscalls', script);
    assert.equal(existsSync(target), false, 'a call in a diversion created a file');
    assert.match(out, /^\$1 = -1$/m);
    assert.match(err, /trr did not run them and they returned ENOSYS: open(at)?\(/);
    assert.match(out + err, /signaled while in a function called from GDB|received signal SIGSEGV/);
    const v = values(out, new Set([1]));
    assert.deepEqual(v, ['0', '0', '1']);
  });
});
