// gdb's catchpoints that trr could not honour before: `catch fork` / `catch
// vfork` going backwards (reverse-continue stops at the forks, last to
// first, where the forward run stopped, as rr does), and `catch syscall` on
// a recording made with the syscall buffer, whose buffered calls never enter
// the kernel in replay: trr says which caught syscalls it will not stop at.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { buildProgram, manifest, trr, withOutputDir } from '../support/harness.js';
import { lineOf, native, printed, underTrr } from '../support/gdb-compare.js';

const F = 'catch_events.c';
const program = () => buildProgram(manifest().find((p) => p.name === 'catch_events')!);

/** The fork catchpoint stops gdb reported, in order. */
const forks = (out: string) => [...out.matchAll(/Catchpoint \d+ \((forked|vforked) process/g)].map((m) => m[1]!);

test('catch fork and catch vfork going backwards: reverse-continue stops at the vfork, then the fork, where the forward run (as the native one) stopped', async () => {
  await withOutputDir('gdb-catch-fork-reverse', (dir) => {
    const trace = join(dir, 'trace');
    assert.equal(trr(['record', '-n', '-o', trace, program()], { cwd: dir }).status, 0);
    const forward = ['catch fork', 'catch vfork', `tbreak ${F}:${lineOf(F, 'L_after_children')}`, 'continue', 'print $pc', 'continue', 'print $pc', 'continue', 'print $pc'];
    const nat = native(dir, program(), forward);
    assert.deepEqual(forks(nat), ['forked', 'vforked'], 'see native.log');
    const pcs = printed(nat);
    assert.equal(pcs.length, 3);
    const back = ['reverse-continue', 'print $pc', 'reverse-continue', 'print $pc', 'reverse-continue', 'print $pc', 'continue', 'print $pc'];
    for (const interval of ['0', '250']) {
      const out = underTrr(dir, trace, [...forward, ...back], interval);
      assert.deepEqual(forks(out), ['forked', 'vforked', 'vforked', 'forked', 'forked'], `trr-${interval}.log`);
      const values = printed(out);
      assert.deepEqual(values.slice(0, 3), pcs, 'forwards: the native stops');
      // Backwards: the vfork, the fork, then the breakpoint at main; forwards again: the fork.
      assert.deepEqual(values.slice(3, 5), [pcs[1], pcs[0]], `trr-${interval}.log`);
      assert.match(values[5]!, /<main(\+\d+)?>/);
      assert.equal(values[6], pcs[0]);
      assert.doesNotMatch(out, /internal-error/);
    }
  });
});

test('catch syscall on a recording with the syscall buffer: trr names the caught syscalls the buffer ran, and stops at the others', async () => {
  await withOutputDir('gdb-catch-buffered', (dir) => {
    const trace = join(dir, 'trace');
    assert.equal(trr(['record', '-o', trace, program()], { cwd: dir }).status, 0); // with the syscall buffer
    const out = underTrr(dir, trace, ['catch syscall getpid getppid write', 'continue', 'print $orig_rax', 'continue', 'print $pc'], '250');
    assert.match(out, /trr: catch syscall will not stop at the calls of [^\n]*getpid \(\d+ calls?\)[^\n]*that the syscall buffer ran in this recording[^\n]*trr record -n/);
    // write is not buffered (it goes to a terminal or pipe the recorder watches): its entry and return are stops.
    assert.match(out, /Catchpoint \d+ \(call to syscall write\)/);
    assert.equal(printed(out)[0], '1'); // orig_rax at the entry: write
    assert.match(out, /Catchpoint \d+ \(returned from syscall write\)/);
  });
});
