// Real gdb driving `trr replay` with scripts (`-- -batch -x FILE`): forward
// execution, breakpoints, backtraces through libc, stopping at the recorded
// fatal signal, reverse-continue, and the monitor commands.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildProgram, manifest, repoRoot, trr, withOutputDir } from '../support/harness.js';

const bank = join(repoRoot, 'build', 'examples', 'bank');

/**
 * Runs gdb on the replay with a script; returns what it printed (stdout and
 * stderr). Checkpoints are taken at every event, so that going backwards
 * always starts from one, and logged.
 */
function gdbSession(dir: string, trace: string, script: string, expectStatus = 0): string {
  const file = join(dir, 'script.gdb');
  writeFileSync(file, script);
  const env = { ...process.env, TRR_CHECKPOINT_INTERVAL_MS: '0', TRR_LOG: 'checkpoint' };
  const r = trr(['replay', trace, '--', '-nx', '-batch', '-x', file], { timeoutMs: 120_000, env });
  writeFileSync(join(dir, 'gdb.log'), `${r.stdout}\n--- stderr\n${r.stderr}`);
  assert.equal(r.status, expectStatus, r.stderr);
  return `${r.stdout}\n${r.stderr}`;
}

test('gdb: breakpoints, backtrace, print, continue to the recorded crash', async () => {
  await withOutputDir('gdb-forward', (dir) => {
    const trace = join(dir, 'bank');
    assert.equal(trr(['record', '-o', trace, bank], { cwd: dir }).status, 134);
    const out = gdbSession(dir, trace, ['break record_transfer', 'continue', 'bt', 'print amount', 'monitor when', 'print sizeof($xmm15)', 'print sizeof($ymm15)', 'delete', 'continue', 'bt'].join('\n'));
    assert.match(out, /^\$2 = 16$/m);
    if (/\bavx\b/.test(readFileSync('/proc/cpuinfo', 'utf8'))) assert.match(out, /^\$3 = 32$/m);
    assert.match(out, /Breakpoint 1, record_transfer \(a=0x[0-9a-f]+ <accounts>, n=0, amount=-5\) at .*bank\.c:29/);
    assert.match(out, /#1 .* in transfer \(from=0, to=1, amount=5, n=0\) at .*bank\.c:35/);
    assert.match(out, /#2 .* in main \(\) at .*bank\.c:44/);
    assert.match(out, /^\$1 = -5$/m);
    assert.match(out, /^Current event: \d+$/m);
    assert.match(out, /Program received signal SIGABRT, Aborted\./);
    assert.match(out, /in __GI_raise|raise\.c/);
    assert.match(out, /#4 .* in main \(\) at .*bank\.c:\d+/);
  });
});

test('gdb: reverse-continue goes back to the previous breakpoint hit, then to the start', async () => {
  await withOutputDir('gdb-reverse-continue', (dir) => {
    const trace = join(dir, 'bank');
    assert.equal(trr(['record', '-o', trace, bank], { cwd: dir }).status, 134);
    const out = gdbSession(
      dir,
      trace,
      ['break record_transfer if n == 8', 'continue', 'continue', 'print amount', 'reverse-continue', 'print amount', 'print a->balance', 'reverse-continue', 'monitor when'].join('\n'),
    );
    const hits = [...out.matchAll(/Breakpoint 1, record_transfer \(a=[^,]+, n=(\d+), amount=(-?\d+)\)/g)].map((m) => [m[1], m[2]]);
    assert.deepEqual(hits, [['8', '-13'], ['8', '13'], ['8', '-13']]);
    // Going back started from a checkpoint taken on the way, not from the start of the recording.
    assert.ok(Math.max(...[...out.matchAll(/\[checkpoint\] replaying from event (\d+)/g)].map((m) => Number(m[1]))) > 10, 'no reverse-continue replayed from a later checkpoint');
    assert.match(out, /^\$1 = 13$/m);
    assert.match(out, /^\$2 = -13$/m);
    assert.match(out, /No more reverse-execution history\./);
    assert.match(out, /^Current event: 1$/m);
  });
});

test('gdb server: writes last until the next resume, which replays as recorded; unknown monitor commands are answered', async () => {
  await withOutputDir('gdb-protocol', (dir) => {
    const trace = join(dir, 'bank');
    assert.equal(trr(['record', '-o', trace, bank], { cwd: dir }).status, 134);
    const script = ['break main', 'continue', 'monitor frobnicate', 'monitor help', 'print accounts[0].balance', 'print accounts[0].balance = 5', 'print accounts[0].balance', 'set var $rax = 1', 'print $rax', 'continue', 'frame 4', 'print accounts[0].balance'];
    const out = gdbSession(dir, trace, script.join('\n'));
    assert.match(out, /unknown monitor command "frobnicate"/);
    assert.match(out, /monitor goto EVENT/);
    assert.match(out, /^\$1 = 100$/m);
    // In the copy of the replay gdb's writes are seen...
    assert.match(out, /^\$2 = 5$/m);
    assert.match(out, /^\$3 = 5$/m);
    assert.match(out, /^\$4 = 1$/m);
    // ...and the replay resumed as recorded: the same crash, the same corrupted balance.
    assert.match(out, /Program received signal SIGABRT/);
    assert.match(out, /^\$5 = 13$/m);
  });
});

test('gdb: the debugging story — watch -l the corrupted field, reverse-continue to the write that broke it', async () => {
  await withOutputDir('gdb-watch-story', (dir) => {
    const trace = join(dir, 'bank');
    assert.equal(trr(['record', '-o', trace, bank], { cwd: dir }).status, 134);
    const out = gdbSession(
      dir,
      trace,
      ['continue', 'frame 4', 'print accounts[0].balance', 'watch -l accounts[0].balance', 'reverse-continue', 'bt 3', 'print n', 'reverse-continue', 'continue', 'continue', 'rwatch accounts[1].name[0]', 'reverse-continue'].join('\n'),
    );
    assert.match(out, /Program received signal SIGABRT/);
    assert.match(out, /^\$1 = 13$/m);
    // Going back, the watchpoint stops at the out-of-bounds write in record_transfer, at n == 8.
    assert.match(out, /Hardware watchpoint \d+: -location accounts\[0\]\.balance\s+Old value = 13\s+New value = 106\s+0x[0-9a-f]+ in record_transfer \(a=0x[0-9a-f]+ <accounts>, n=8, amount=13\) at .*bank\.c:29/);
    assert.match(out, /#1 .* in transfer \(from=2, to=0, amount=13, n=8\) at .*bank\.c:36/);
    assert.match(out, /^\$2 = 8$/m);
    // One more step back: the legitimate update in transfer().
    assert.match(out, /Old value = 106\s+New value = 93\s+0x[0-9a-f]+ in transfer \(from=2, to=0, amount=13, n=8\) at .*bank\.c:34/);
    // And forwards again through the same writes.
    assert.match(out, /Old value = 93\s+New value = 106\s+transfer \(from=2, to=0, amount=13, n=8\)/);
    assert.match(out, /Old value = 106\s+New value = 13\s+record_transfer/);
  });
});

test('gdb: until and advance, and set exec-direction reverse for next, step and continue', async () => {
  await withOutputDir('gdb-exec-direction', (dir) => {
    const trace = join(dir, 'bank');
    assert.equal(trr(['record', '-o', trace, bank], { cwd: dir }).status, 134);
    const script = ['break transfer if n == 4', 'continue', 'next', 'until', 'advance 37', 'print n', 'set exec-direction reverse', 'next', 'step', 'print amount', 'continue', 'set exec-direction forward', 'next', 'advance record_transfer', 'print amount', 'until 44', 'print n'];
    const out = gdbSession(dir, trace, script.join('\n'));
    const lines = [...out.matchAll(/^(\d+)\t/gm)].map((m) => Number(m[1]));
    // Forwards: 33 (breakpoint), next 34, until 35, advance 37. Backwards: next 36; step into the
    // previous call's record_transfer at its last line, 30; continue back to the breakpoint, 33.
    // Forwards again: next 34, advance into record_transfer 29, until returns to transfer at 36.
    assert.deepEqual(lines, [33, 34, 35, 37, 36, 30, 33, 34, 29, 36], out);
    assert.match(out, /^\$1 = 4$/m);
    assert.match(out, /^record_transfer \(a=0x[0-9a-f]+ <accounts\+88>, n=4, amount=-9\) at .*bank\.c:30$/m);
    assert.match(out, /^\$2 = -9$/m);
    assert.equal([...out.matchAll(/Breakpoint 1, transfer \(from=1, to=2, amount=9, n=4\)/g)].length, 2);
    assert.match(out, /^\$3 = -9$/m);
    assert.match(out, /^\$4 = 4$/m);
  });
});

test('gdb: AVX-512 registers (zmm0-31, k0-7) from the XSAVE area, where the CPU has them', async (t) => {
  if (!/\bavx512f\b/.test(readFileSync('/proc/cpuinfo', 'utf8'))) return t.skip('this CPU has no AVX-512');
  await withOutputDir('gdb-avx512', (dir) => {
    const src = join(dir, 'zmm.c');
    writeFileSync(
      src,
      [
        '#include <stdio.h>',
        '__attribute__((noinline)) void probe(void) { __asm__ volatile("" ::: "memory"); }',
        'int main(void) {',
        '  static const unsigned int v[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};',
        '  __asm__ volatile("vmovdqu32 %0, %%zmm31\\n\\tvmovdqu32 %0, %%zmm7\\n\\tmovl $0x5a5a, %%eax\\n\\tkmovw %%eax, %%k3" : : "m"(v) : "xmm31", "xmm7", "eax", "k3");',
        '  probe();',
        '  puts("done");',
        '  return 0;',
        '}',
      ].join('\n'),
    );
    const bin = join(dir, 'zmm');
    assert.equal(spawnSync('cc', ['-O0', '-g', '-mavx512f', '-o', bin, src]).status, 0);
    const trace = join(dir, 'trace');
    assert.equal(trr(['record', '-o', trace, bin], { cwd: dir }).status, 0);
    const out = gdbSession(dir, trace, ['break probe', 'continue', 'print $zmm31.v16_int32', 'print $zmm7.v16_int32', 'print $k3', 'print $ymm31.v8_int32', 'print sizeof($zmm0)'].join('\n'));
    const all = '{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}';
    assert.ok(out.includes(`$1 = ${all}`) && out.includes(`$2 = ${all}`), out);
    assert.match(out, /^\$3 = 23130$/m);
    assert.match(out, /^\$4 = \{1, 2, 3, 4, 5, 6, 7, 8\}$/m);
    assert.match(out, /^\$5 = 64$/m);
  });
});

test('gdb: symbols of a shared library come from the trace when the library changed after recording', async () => {
  await withOutputDir('gdb-changed-library', (dir) => {
    const cc = (...args: string[]) => assert.equal(spawnSync('cc', args, { cwd: dir, encoding: 'utf8' }).status, 0);
    writeFileSync(join(dir, 'foo.c'), 'int foo_value(int x) { return x * 3 + 1; }\n');
    writeFileSync(join(dir, 'main.c'), '#include <stdio.h>\nint foo_value(int);\nint main(void) { printf("%d\\n", foo_value(4)); return 0; }\n');
    cc('-g', '-shared', '-fPIC', '-o', 'libfoo.so', 'foo.c');
    cc('-g', '-o', 'main', 'main.c', '-L.', '-lfoo', `-Wl,-rpath,${dir}`);
    const trace = join(dir, 'trace');
    assert.equal(trr(['record', '-o', trace, join(dir, 'main')], { cwd: dir }).stdout, '13\n');
    const script = ['break foo_value', 'continue', 'bt 2'].join('\n');
    const before = gdbSession(dir, trace, script);
    assert.doesNotMatch(before, /changed since the recording/);
    assert.match(before, /Breakpoint 1, foo_value \(x=4\) at foo\.c:1/);
    // Rebuilt with different code: gdb must still see the library that ran.
    writeFileSync(join(dir, 'foo.c'), 'static int pad(int x) { return x + 7; }\nint other(int x) { return pad(x) * 11; }\nint foo_value(int x) { return other(x) * 5; }\n');
    cc('-g', '-shared', '-fPIC', '-o', 'libfoo.so', 'foo.c');
    const after = gdbSession(dir, trace, script);
    assert.match(after, /libfoo\.so changed since the recording: gdb reads the trace's copies/);
    assert.match(after, /Breakpoint 1, foo_value \(x=4\) at foo\.c:1/);
    assert.match(after, /#1 +0x[0-9a-f]+ in main \(\) at main\.c:3/);
  });
});

test('gdb: stepi and reverse-stepi across the watched write stand before and after it', async () => {
  await withOutputDir('gdb-watch-stepi', (dir) => {
    const trace = join(dir, 'bank');
    assert.equal(trr(['record', '-o', trace, bank], { cwd: dir }).status, 134);
    const script = ['continue', 'frame 4', 'watch -l accounts[0].balance', 'reverse-continue', 'print/x $pc', 'stepi', 'print accounts[0].balance', 'reverse-stepi', 'print/x $pc', 'print accounts[0].balance', 'reverse-stepi', 'stepi', 'print/x $pc'];
    const out = gdbSession(dir, trace, script.join('\n'));
    const pc = /^\$1 = (0x[0-9a-f]+)$/m.exec(out)?.[1];
    assert.ok(pc, out);
    assert.match(out, /^\$2 = 13$/m); // after the write
    assert.match(out, new RegExp(`^\\$3 = ${pc}$`, 'm')); // back before it
    assert.match(out, /^\$4 = 106$/m);
    assert.match(out, new RegExp(`^\\$5 = ${pc}$`, 'm')); // one back and one forward again
  });
});

const program = (name: string) => buildProgram(manifest().find((p) => p.name === name)!);

test('gdb: finish and reverse-finish out of a recursive function', async () => {
  await withOutputDir('gdb-recursion', (dir) => {
    const trace = join(dir, 'rec');
    assert.equal(trr(['record', '-o', trace, program('recursion')], { cwd: dir }).status, 0);
    const out = gdbSession(dir, trace, ['break fact if n == 1', 'continue', 'delete', 'finish', 'bt 1', 'reverse-finish', 'bt 1', 'reverse-finish', 'bt 1', 'reverse-finish', 'bt 1'].join('\n'));
    assert.match(out, /Breakpoint 1, fact \(n=(n@entry=)?1\)/);
    assert.match(out, /Value returned is \$1 = 1/);
    // finish leaves fact(1) for its caller fact(2); going back, each reverse-finish
    // lands on the call instruction one frame further out: in fact(2), fact(3), fact(4).
    const frames = [...out.matchAll(/^#0 +0x[0-9a-f]+ in fact \(n=(?:n@entry=)?(\d)\) at .*recursion\.c:15$/gm)].map((m) => m[1]);
    assert.deepEqual(frames, ['2', '2', '3', '4']);
  });
});

test('gdb: a multi-threaded program inspected thread by thread', async () => {
  await withOutputDir('gdb-threads', (dir) => {
    const trace = join(dir, 'threads');
    assert.equal(trr(['record', '-o', trace, program('threads')], { cwd: dir }).status, 0);
    const out = gdbSession(dir, trace, ['break worker', 'continue', 'continue', 'info threads', 'thread apply all bt 1', 'thread 1', 'bt 2'].join('\n'));
    // Which worker runs first depends on the recording; each replay of it is the same.
    const hits = [...out.matchAll(/Thread (\d+) "threads" hit Breakpoint 1, worker \(arg=(0x\d)\)/g)];
    assert.equal(hits.length, 2, out);
    assert.notEqual(hits[0]![1], hits[1]![1]);
    const [, current, arg] = hits[1]!;
    assert.match(out, new RegExp(`^\\* ${current} +Thread \\d+\\.\\d+ "threads" +worker \\(arg=${arg}\\)`, 'm'));
    assert.match(out, /^ +1 +Thread \d+\.\d+ "threads" .*futex/m);
    assert.match(out, new RegExp(`Thread ${current} \\(Thread \\d+\\.\\d+ "threads"\\):\\n#0 +worker \\(arg=${arg}\\)`));
    assert.match(out, /\[Switching to thread 1 /);
  });
});

test('gdb: a Rust program — break, backtrace through std, reverse-continue', async () => {
  await withOutputDir('gdb-rust', (dir) => {
    const trace = join(dir, 'rust');
    assert.equal(trr(['record', '-o', trace, program('rust_threads')], { cwd: dir }).status, 0);
    const out = gdbSession(dir, trace, ['break rust_threads::main', 'continue', 'bt 1', 'break rust_threads::check', 'continue', 'bt 3', 'info threads', 'reverse-continue', 'bt 1'].join('\n'));
    assert.match(out, /Breakpoint 1, rust_threads::main \(\) at .*rust_threads\.rs:\d+/);
    assert.match(out, /Breakpoint 2(\.\d+)?, rust_threads::check \(.*\) at .*rust_threads\.rs:\d+/);
    assert.match(out, /#1 +(0x[0-9a-f]+ in )?rust_threads::main \(\)/);
    // Back from std::fs::write to the first stop in main.
    assert.match(out, /Breakpoint 1, rust_threads::main \(\)[\s\S]*Breakpoint 2[\s\S]*Breakpoint 1, rust_threads::main \(\)/);
  });
});

test('gdb: the debugging story on a Rust program — watch -l the corrupted balance, reverse-continue to the unchecked write', async () => {
  await withOutputDir('gdb-rust-story', (dir) => {
    const trace = join(dir, 'ledger');
    assert.equal(trr(['record', '-o', trace, program('rust_ledger')], { cwd: dir }).status, 134);
    const out = gdbSession(dir, trace, ['continue', 'frame function rust_ledger::main', 'print accounts[0].balance', 'watch -l accounts[0].balance', 'reverse-continue', 'bt 3', 'print n'].join('\n'));
    assert.match(out, /Program received signal SIGABRT/);
    assert.match(out, /^\$1 = -9$/m);
    assert.match(out, /Old value = -9\s+New value = 93\s+0x[0-9a-f]+ in rust_ledger::record_transfer \(a=0x[0-9a-f]+, n=4, amount=-9\) at .*rust_ledger\.rs:18/);
    assert.match(out, /#1 .* in rust_ledger::transfer \(accounts=0x[0-9a-f]+, from=0, to=1, amount=9, n=4\) at .*rust_ledger\.rs:25/);
    assert.match(out, /#2 .* in rust_ledger::main \(\) at .*rust_ledger\.rs:35/);
    assert.match(out, /^\$2 = 4$/m);
  });
});

test('gdb: monitor checkpoint, restart N, goto and when', async () => {
  await withOutputDir('gdb-checkpoints', (dir) => {
    const trace = join(dir, 'bank');
    assert.equal(trr(['record', '-o', trace, bank], { cwd: dir }).status, 134);
    const out = gdbSession(
      dir,
      trace,
      ['break record_transfer if n == 3', 'continue', 'monitor checkpoint', 'print amount', 'delete', 'continue', 'monitor when', 'monitor restart 1', 'maintenance flush register-cache', 'print amount', 'print n', 'monitor restart 7', 'monitor goto 5', 'monitor when'].join('\n'),
    );
    assert.match(out, /Checkpoint 1 at event \d+\./);
    assert.match(out, /^\$1 = -8$/m);
    assert.match(out, /Back at checkpoint 1/);
    assert.match(out, /^\$2 = -8$/m);
    assert.match(out, /^\$3 = 3$/m);
    assert.match(out, /there is no checkpoint 7/);
    assert.match(out, /Now at event 5\.[\s\S]*Current event: 5/);
  });
});

test('gdb: restart N and goto EVENT move the replay and refresh gdb (a stop reply, as rr does), without flushing caches', async () => {
  await withOutputDir('gdb-restart-refresh', (dir) => {
    const trace = join(dir, 'bank');
    assert.equal(trr(['record', '-o', trace, bank], { cwd: dir }).status, 134);
    const out = gdbSession(
      dir,
      trace,
      ['break record_transfer if n == 3', 'continue', 'monitor checkpoint', 'print amount', 'print/x $pc', 'delete', 'continue', 'restart 1', 'print amount', 'print/x $pc', 'print n', 'goto 5', 'monitor when', 'restart', 'monitor when', 'info threads', 'break main', 'run', 'print accounts[0].balance'].join('\n'),
    );
    const values = [...out.matchAll(/^\$\d+ = (.*)$/gm)].map((m) => m[1]);
    assert.deepEqual(values.slice(0, 5), ['-8', values[1], '-8', values[1], '3'], out);
    assert.match(out, /Program received signal SIGABRT[\s\S]*Program stopped\.\s+record_transfer \(a=0x[0-9a-f]+ <accounts>, n=3, amount=-8\)/);
    assert.match(out, /Program stopped\.\s+0x[0-9a-f]+ in _start \(\)/);
    // Monitor output goes to another stream than gdb's stops.
    assert.deepEqual([...out.matchAll(/^Current event: (\d+)$/gm)].map((m) => m[1]), ['5', '1']);
    // A plain run afterwards starts from the start and runs to the breakpoint, as natively.
    assert.match(out, /Breakpoint 2, main \(\) at .*bank\.c/);
    assert.equal(values[5], '100');
  });
});
