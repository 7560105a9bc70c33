// Reverse execution must give the answers of a real time machine. Each test
// runs the same gdb script twice: on a native run of the program, mostly
// under gdb's own `record full` (which records the run instruction by
// instruction, so its reverse execution is exact), and under `trr replay`;
// then compares what gdb printed (`print` values: program counters,
// variables). trr runs twice, with a checkpoint at every event and with the
// default interval (so that going back replays from the start of the
// recording, before libraries were mapped). Both start stopped at `main`;
// lines starting with `N:` are for the native run only (`record full`,
// `record goto end`), `T:` for trr only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildProgram, manifest, run, trr, withOutputDir } from '../support/harness.js';
import { BIND_NOW, lineOf, native, printed, script, source, underTrr } from '../support/gdb-compare.js';

const program = (name: string) => buildProgram(manifest().find((p) => p.name === name)!);

/** Runs `body` natively and under trr; the printed values must be the same. */
function compareWithNative(dir: string, name: string, body: readonly string[], expectCount: number): string[] {
  const bin = program(name);
  const trace = join(dir, 'trace');
  // Without the syscall buffer: its library changes where libc is loaded and which
  // instructions getpid and friends run, and these compare addresses with a native run.
  trr(['record', '-n', '-o', trace, bin], { cwd: dir, env: BIND_NOW });
  const values = printed(native(dir, bin, body, BIND_NOW));
  assert.equal(values.length, expectCount, `the native run printed ${values.length} values, not ${expectCount}: see native.log`);
  for (const interval of ['0', '250']) {
    const out = underTrr(dir, trace, body, interval);
    assert.deepEqual(printed(out), values, `trr (checkpoint interval ${interval} ms) differs from the native run`);
  }
  return values;
}

test('reverse-stepi, reverse-step just after a syscall, and back over a libc syscall: as under record full', async () => {
  await withOutputDir('gdb-reverse-after-syscall', (dir) => {
    const f = 'reverse_exact.c';
    const at = (m: string) => `${f}:${lineOf(f, m)}`;
    const body = [
      'N:record full',
      `tbreak ${at('L_after_getpid')}`,
      'continue',
      'print/x $pc',
      // Back through getpid's ret, its syscall instruction, the mov before it; then forwards again.
      'reverse-stepi',
      'print/x $pc',
      'reverse-stepi',
      'print/x $pc',
      'reverse-stepi',
      'print/x $pc',
      'stepi',
      'print/x $pc',
      'stepi',
      'print/x $pc',
      'stepi',
      'print/x $pc',
      'reverse-step',
      'print/x $pc',
      'reverse-step',
      'print/x $pc',
      'N:record goto end',
      `tbreak ${at('L_after_bump')}`,
      'continue',
      'print/x $pc',
      // Into bump(), first run just after getppid, and out of it backwards.
      'reverse-step',
      'print/x $pc',
      'reverse-step',
      'print/x $pc',
      'print g_calls',
      'reverse-finish',
      'print/x $pc',
      // Back over getppid(), a libc function that makes a syscall.
      'reverse-next',
      'print/x $pc',
      'reverse-next',
      'print/x $pc',
      'print g',
    ];
    const values = compareWithNative(dir, 'reverse_exact', body, 17);
    // The values compared are not all the same: the steps moved.
    assert.ok(new Set(values).size >= 10, values.join(' '));
  });
});

test('reverse-continue over a breakpoint whose condition is false, first reached just after a syscall', async () => {
  await withOutputDir('gdb-reverse-false-condition', (dir) => {
    const f = 'reverse_exact.c';
    const at = (m: string) => `${f}:${lineOf(f, m)}`;
    const body = [
      'N:record full',
      `tbreak ${at('L_after_bump')}`,
      'continue',
      `break ${at('L_after_getpid')} if g == 100`,
      `break ${at('L_bump_body')} if g_calls == 1`,
      'reverse-continue',
      'print/x $pc',
      'print g_calls',
      'print x',
      'delete 4',
      // Back to the start of main: record full's history starts there, trr stops at breakpoint 1.
      'reverse-continue',
      'print/x $pc',
      'print g',
    ];
    compareWithNative(dir, 'reverse_exact', body, 5);
  });
});

test('a breakpoint in libc is hit going backwards, also when the replay starts before libc was mapped', async () => {
  await withOutputDir('gdb-reverse-libc-breakpoint', (dir) => {
    const f = 'reverse_exact.c';
    const body = [
      'N:record full',
      'break getppid',
      `tbreak ${f}:${lineOf(f, 'L_after_bump')}`,
      'continue',
      'print/x $pc',
      'continue',
      'print/x $pc',
      'reverse-continue',
      'print/x $pc',
      'print g',
      'print $_any_caller_matches("main")',
    ];
    const values = compareWithNative(dir, 'reverse_exact', body, 5);
    assert.equal(values[0], values[2]); // back at getppid
  });
});

test('the recording ends at the exit_group instruction: _exit and the code before it run under gdb', async () => {
  await withOutputDir('gdb-reverse-end', (dir) => {
    const body = [
      'break _exit',
      'continue',
      'print/x $pc',
      'print $_any_caller_matches("exit")',
      'delete',
      // Natively, exit_group's entry is caught just after its syscall instruction; trr stops before it.
      'N:catch syscall exit_group',
      'continue',
      'N:print/x $pc - 2',
      'T:print/x $pc',
      'print g',
      // At the end, stepping does not leave it.
      'T:stepi',
      'T:x/i $pc',
    ];
    compareWithNative(dir, 'reverse_exact', body, 4);
    assert.match(readFileSync(join(dir, 'trr-0.log'), 'utf8'), /^=> 0x[0-9a-f]+ <(__GI_)?_exit\+\d+>:\s+syscall/m);
  });
});

test('a crash stops at the faulting instruction, and reverse-stepi goes to the one before', async () => {
  await withOutputDir('gdb-reverse-crash', (dir) => {
    const line = source('segv_death.c').split('\n').findIndex((l) => l.includes('*target = 42')) + 1;
    const body = [`tbreak segv_death.c:${line}`, 'continue', 'print/x $pc', 'continue', 'print/x $pc', 'T:reverse-stepi', 'T:print/x $pc', 'T:stepi', 'T:print/x $pc'];
    const [lineStart, crash] = compareWithNative(dir, 'segv_death', body.filter((l) => !l.startsWith('T:')), 2);
    assert.notEqual(lineStart, crash);
    // trr alone: one instruction back from the crash, and forwards to it again.
    const values = printed(underTrr(dir, join(dir, 'trace'), body, '250'));
    assert.equal(values[1], crash);
    assert.ok(BigInt(values[2]!) < BigInt(crash!) && BigInt(values[2]!) >= BigInt(lineStart!), values.join(' '));
    assert.equal(values[3], crash);
  });
});

test('reverse-stepi from the SIGABRT that abort() raised stands at its tgkill syscall instruction', async () => {
  await withOutputDir('gdb-reverse-abort', (dir) => {
    // Natively the program stops after the syscall that sent the signal; one instruction before is that syscall instruction.
    const body = ['continue', 'print/x $pc', 'N:print/x $pc - 2', 'T:reverse-stepi', 'T:print/x $pc', 'T:x/i $pc', 'T:stepi', 'T:x/i $pc'];
    const [, syscallInstruction] = compareWithNative(dir, 'abort_death', body, 2);
    assert.ok(syscallInstruction);
    assert.match(readFileSync(join(dir, 'trr-250.log'), 'utf8'), /^=> 0x[0-9a-f]+ <[^>]+>:\s+syscall/m);
  });
});

test('reverse-continue goes back to the previous hit in another thread, whichever thread gdb selected meanwhile', async () => {
  await withOutputDir('gdb-reverse-threads', (dir) => {
    // Threads interleave as they did in the recording, not as in a new native run: the forward hits are the reference.
    const trace = join(dir, 'trace');
    assert.equal(trr(['record', '-o', trace, program('threads')], { cwd: dir }).status, 0);
    const body = ['break worker', 'continue', 'print arg', 'continue', 'print arg', 'info threads', 'reverse-continue', 'print arg', 'print $_thread'];
    for (const interval of ['0', '250']) {
      const out = underTrr(dir, trace, body, interval);
      const hits = [...out.matchAll(/Thread (\d+) "threads" hit Breakpoint \d+, worker \(arg=(0x\d)\)/g)].map((m) => `${m[1]} ${m[2]}`);
      assert.equal(hits.length, 3, out);
      assert.notEqual(hits[0], hits[1]);
      assert.equal(hits[2], hits[0], 'reverse-continue did not go back to the first hit');
      const [first, second, back, thread] = printed(out);
      assert.notEqual(first, second);
      assert.equal(back, first);
      assert.equal(thread, hits[0]!.split(' ')[0]);
    }
  });
});

test('the program\'s output is shown under gdb as natively, once, however often replay goes back and forth; --no-output hides it', async () => {
  await withOutputDir('gdb-program-output', (dir) => {
    const bin = program('reverse_exact');
    const trace = join(dir, 'trace');
    const natively = run(bin, [], { cwd: dir }).stdout;
    assert.equal(trr(['record', '-o', trace, bin], { cwd: dir }).stdout, natively);
    const file = script(dir, 'output.gdb', ['break bump', 'continue', 'delete', 'continue', 'reverse-continue', 'continue', 'print 42']);
    const shown = trr(['replay', trace, '--', '-nx', '-batch', '-x', file], { timeoutMs: 90_000 });
    writeFileSync(join(dir, 'shown.log'), `${shown.stdout}\n--- stderr\n${shown.stderr}`);
    assert.equal(shown.status, 0, shown.stderr);
    const lines = natively.split('\n').filter((l) => l !== '');
    const outputLines = shown.stdout.split('\n').filter((l) => lines.includes(l));
    assert.deepEqual(outputLines, lines, shown.stdout);
    assert.match(shown.stdout, /^\$1 = 42$/m);
    const hidden = trr(['replay', '--no-output', trace, '--', '-nx', '-batch', '-x', file], { timeoutMs: 90_000 });
    assert.equal(hidden.status, 0, hidden.stderr);
    assert.equal(hidden.stdout.split('\n').filter((l) => lines.includes(l)).length, 0, hidden.stdout);
  });
});
