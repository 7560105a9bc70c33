// gdb's catchpoints under trr, compared with gdb on a native run of the same
// program: `catch syscall` (QCatchSyscalls; stops at the entry and the
// return of the named syscalls, or of all), going forwards and backwards,
// and `catch fork` / `catch vfork` / `catch exec` (fork-events,
// vfork-events, exec-events). The recordings are made without the syscall
// buffer: buffered syscalls never enter the kernel in replay, and its library
// moves libc, whose addresses are compared.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { buildProgram, manifest, trr, withOutputDir } from '../support/harness.js';
import { lineOf, native, printed, underTrr } from '../support/gdb-compare.js';

const F = 'catch_events.c';
const program = () => buildProgram(manifest().find((p) => p.name === 'catch_events')!);

/** The catchpoint stops gdb reported, in order: "call write", "return write", "fork", "exec"... */
function catches(out: string): string[] {
  return [...out.matchAll(/Catchpoint \d+ \((call to syscall|returned from syscall|forked process|vforked process|exec'd) ?([\w/.-]*)\)/g)].map((m) => {
    const kind = m[1]!.split(' ')[0]!;
    return kind === 'call' || kind === 'returned' ? `${kind} ${m[2]}` : kind;
  });
}

function record(dir: string): string {
  const trace = join(dir, 'trace');
  assert.equal(trr(['record', '-n', '-o', trace, program()], { cwd: dir }).status, 0);
  return trace;
}

const repeat = (n: number, lines: readonly string[]) => Array.from({ length: n }, () => lines).flat();

test('catch syscall NAME...: the entries and returns gdb stops at natively, then the same backwards in reverse order', async () => {
  await withOutputDir('gdb-catch-syscall', (dir) => {
    const trace = record(dir);
    const body = ['catch syscall getpid write getppid wait4 clone vfork', `tbreak ${F}:${lineOf(F, 'L_after_children')}`, ...repeat(15, ['continue', 'print $pc', 'print $orig_rax'])];
    const nat = native(dir, program(), body);
    const expected = catches(nat);
    assert.deepEqual(expected.slice(0, 4), ['call getpid', 'returned getpid', 'call write', 'returned write'], 'see native.log');
    assert.equal(expected.length, 14, expected.join(', '));
    const pcs = printed(nat);
    assert.equal(pcs.length, 30);
    for (const interval of ['0', '250']) {
      const back = [...repeat(14, ['reverse-continue', 'print $pc', 'print $orig_rax']), 'reverse-continue', 'print $pc'];
      const out = underTrr(dir, trace, [...body, ...back], interval);
      const seen = catches(out);
      assert.deepEqual(seen.slice(0, 14), expected, `trr (interval ${interval}) stopped at other syscalls than the native run`);
      // At the entries gdb shows the syscall number in orig_rax; at the returns the same pc.
      const values = printed(out);
      const forward = values.slice(0, 30);
      assert.deepEqual(forward.filter((_, i) => i % 2 === 0), pcs.filter((_, i) => i % 2 === 0), 'program counters differ from the native run');
      for (let i = 0; i < 14; i++) if (expected[i]!.startsWith('call')) assert.equal(forward[2 * i + 1], pcs[2 * i + 1], `orig_rax at ${expected[i]}`);
      // Backwards: the same stops, last to first, at the same places, then the breakpoint at main.
      assert.deepEqual(seen.slice(14), [...expected].reverse(), `reverse-continue (interval ${interval})`);
      const backPcs = values.slice(30).filter((_, i) => i % 2 === 0);
      assert.deepEqual(backPcs.slice(0, 14), forward.filter((_, i) => i % 2 === 0).slice(0, 14).reverse());
      assert.match(out.slice(out.lastIndexOf('Catchpoint')), /Breakpoint 1, main \(/);
    }
  });
});

test('catch syscall (all): the same syscalls in the same order as natively; reverse-stepi from an entry goes to the syscall instruction', async () => {
  await withOutputDir('gdb-catch-syscall-all', (dir) => {
    const trace = record(dir);
    const stopAt = `${F}:${lineOf(F, 'L_after_children')}`;
    const body = ['catch syscall', `tbreak ${stopAt}`, ...repeat(24, ['continue'])];
    const nat = native(dir, program(), body);
    const upTo = (out: string) => catches(out.slice(0, out.indexOf('Temporary breakpoint 2, ')));
    const expected = upTo(nat);
    assert.ok(expected.length >= 14 && expected.includes('call vfork'), expected.join(', '));
    const out = underTrr(dir, trace, body, '250');
    assert.deepEqual(upTo(out), expected);
    // At the entry of getppid: one instruction back is its syscall instruction, one forward the return.
    // A stepi over the syscall instruction stands after it (the syscall done), reverse-continue goes back to its entry.
    const steps = underTrr(dir, trace, ['catch syscall getppid', 'continue', 'print $pc', 'reverse-stepi', 'x/i $pc', 'print $pc', 'stepi', 'print $pc', 'reverse-continue', 'print $pc'], '250');
    assert.match(steps, /^=> 0x[0-9a-f]+ <[^>]+>:\s+syscall/m);
    const [entry, before, after, again] = printed(steps);
    assert.notEqual(entry, before);
    assert.equal(after, entry);
    assert.equal(again, entry);
    assert.deepEqual(catches(steps), ['call getppid', 'call getppid']);
  });
});

test('catch fork, catch vfork, catch exec: the stops gdb makes natively; the children are detached', async () => {
  await withOutputDir('gdb-catch-fork', (dir) => {
    const trace = record(dir);
    const body = ['catch fork', 'catch vfork', 'catch exec', 'continue', 'print $pc', 'continue', 'print $pc', 'continue', 'print $pc', 'continue', 'print argc'];
    const nat = native(dir, program(), body);
    const expected = catches(nat);
    assert.deepEqual(expected, ['forked', 'vforked', "exec'd"], 'see native.log');
    assert.match(nat, /Detaching after fork from child process/);
    for (const interval of ['0', '250']) {
      const out = underTrr(dir, trace, body, interval);
      assert.deepEqual(catches(out), expected);
      assert.match(out, /Detaching after fork from child process \d+/);
      assert.match(out, /Detaching after vfork from child process \d+/);
      assert.deepEqual(printed(out), printed(nat)); // the same pcs; argc 2 in the program after its exec
    }
  });
});
