// Interrupting the replay in the middle of a syscall-free run (gdb's Ctrl-C:
// SIGINT to gdb, which sends the server its interrupt byte): the stop is
// inside the loop with the registers it reached, and it is a real position
// of the timeline: stepi and reverse-stepi come back to the same registers,
// reverse-continue finds a breakpoint before the loop (one set before the
// continue, and one set after the pause), `finish` runs the rest of the loop
// to the same result as recorded, a checkpoint there is returned to, and
// continuing reaches the recorded end.
// test/programs/pause_compute.c computes for seconds without a syscall (in a
// second thread with `thread`). See docs/ARCHITECTURE.md, "Pausing a run".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildProgram, manifest, trr, withOutputDir } from '../support/harness.js';

const prog = () => buildProgram(manifest().find((p) => p.name === 'pause_compute')!);

/**
 * gdb commands after which gdb gets a SIGINT (as from Ctrl-C) once one of
 * the replayed processes (those trr ptraces) has run `ms` of CPU time more:
 * the next `continue` is interrupted inside the loop however loaded the
 * machine is.
 */
const interruptIn = (ms: number) => [
  'python',
  'import threading, os, signal, time',
  'def trr_cpu():',
  '    tracer = set(os.listdir("/proc/%d/task" % os.getppid()))',
  '    out = {}',
  '    for p in os.listdir("/proc"):',
  '        try:',
  '            if not p.isdigit() or open("/proc/%s/status" % p).read().split("TracerPid:")[1].split()[0] not in tracer: continue',
  '            st = open("/proc/%s/stat" % p).read()',
  '        except (OSError, IndexError): continue',
  '        out[p] = int(st[st.rindex(")") + 2:].split()[11])',
  '    return out',
  'def trr_interrupt(start=trr_cpu()):',
  `    while not any(u - start.get(p, 0) >= ${Math.ceil(ms / 10)} for p, u in trr_cpu().items()): time.sleep(0.02)`,
  '    os.kill(os.getpid(), signal.SIGINT)',
  'threading.Thread(target=trr_interrupt, daemon=True).start()',
  'end',
];

const GENERAL = 'info registers rax rbx rcx rdx rsi rdi rbp rsp r8 r9 r10 r11 r12 r13 r14 r15 rip';

/** Runs gdb on the replay of `trace` with a script; returns its output (with sections: see show). */
function gdbSession(dir: string, trace: string, script: string[]): string {
  const file = join(dir, 'script.gdb');
  writeFileSync(file, ['set pagination off', ...script].join('\n') + '\n');
  const r = trr(['replay', trace, '--', '-nx', '-batch', '-x', file], { timeoutMs: 240_000 });
  writeFileSync(join(dir, 'gdb.log'), `${r.stdout}\n--- stderr\n${r.stderr}`);
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /diverged/);
  return `${r.stdout}\n${r.stderr}`;
}

/** gdb commands whose output is section NAME of the output. */
const show = (name: string, ...commands: string[]) => [`echo ==${name}==\\n`, ...commands, 'echo ==/==\\n'];

/** The output of section NAME. */
function section(out: string, name: string): string {
  const i = out.indexOf(`==${name}==\n`);
  assert.ok(i >= 0, `no section ${name} in:\n${out}`);
  const rest = out.slice(i + name.length + 5);
  return rest.slice(0, rest.indexOf('==/=='));
}

const ripOf = (text: string) => text.match(/^rip\s+(0x[0-9a-f]+)\s+0x[0-9a-f]+ <(\w+)\+?\d*>/m);
/** The answers to `monitor when`, in order (gdb prints them on stderr). */
const events = (out: string) => [...out.matchAll(/^Current event: (\d+)$/gm)].map((m) => Number(m[1]));

function record(dir: string, args: string[]): { trace: string; result: string } {
  const trace = join(dir, 'trace');
  const rec = trr(['record', '-o', trace, prog(), ...args]);
  assert.equal(rec.status, 43, rec.stderr);
  const result = rec.stdout.match(/^result ([0-9a-f]{16}) after 1 call$/m)?.[1];
  assert.ok(result, rec.stdout);
  return { trace, result };
}

test('gdb: Ctrl-C in a syscall-free loop stops in it, at a position stepi, reverse-stepi, reverse-continue and finish work from', async () => {
  await withOutputDir('gdb-pause-loop', (dir) => {
    const { trace, result } = record(dir, []);
    const out = gdbSession(dir, trace, [
      'break before_loop',
      'continue',
      ...show('BEFORE', 'monitor when'),
      ...interruptIn(500),
      'continue', // interrupted inside spin()
      ...show('PAUSED', GENERAL, 'monitor when'),
      'stepi',
      ...show('STEPPED', GENERAL),
      'reverse-stepi',
      ...show('BACK', GENERAL, 'monitor when'),
      'reverse-stepi',
      ...show('BACK2', GENERAL, 'monitor when'),
      'reverse-continue', // to the breakpoint before the loop
      ...show('REVERSED', 'info registers rip', 'monitor when'),
      ...interruptIn(500),
      'continue', // interrupted inside spin() again
      ...show('PAUSED2', 'info registers rip'),
      'delete',
      'break main', // a breakpoint the interrupted continue did not have: main runs before the loop
      'reverse-continue',
      ...show('MAIN', 'info registers rip'),
      'delete',
      ...interruptIn(500),
      'continue',
      ...show('PAUSED3', 'info registers rip'),
      'monitor checkpoint',
      'finish', // the rest of the loop, as recorded
      ...show('FINISHED', 'monitor when'),
      'restart 1', // back to the pause
      ...show('RESTARTED', 'info registers rip', 'monitor when'),
      'continue', // to the end
      ...show('END', 'print $rdi', 'info registers rip', 'monitor when'),
      'break before_loop',
      ...interruptIn(500),
      'reverse-continue', // its search replays the loop: interrupted, it stays where it was
      ...show('STAYED', 'info registers rip', 'monitor when'),
    ]);
    assert.match(out, /Program received signal SIGINT, Interrupt\./);
    const paused = section(out, 'PAUSED');
    assert.equal(ripOf(paused)?.[2], 'spin', `the interrupt stops the loop where it runs:\n${paused}`);
    const [before, when, back, backAgain, reversedAt, finishedAt, restartedAt, endAt, stayedAt, ...more] = events(out);
    assert.equal(more.length, 0);
    assert.ok(before !== undefined && before > 0);
    assert.equal(when, before, 'no event between the breakpoint before the loop and the pause');
    const stepped = section(out, 'STEPPED');
    assert.equal(ripOf(stepped)?.[2], 'spin');
    assert.notEqual(ripOf(stepped)?.[1], ripOf(paused)?.[1]);
    assert.equal(section(out, 'BACK'), paused, 'stepi then reverse-stepi comes back to the same registers');
    assert.equal(back, when);
    const back2 = section(out, 'BACK2');
    assert.equal(ripOf(back2)?.[2], 'spin');
    assert.equal(backAgain, when);
    const reversed = section(out, 'REVERSED');
    assert.equal(ripOf(reversed)?.[2], 'before_loop', `reverse-continue from the pause goes back to the breakpoint before the loop:\n${reversed}`);
    assert.equal(reversedAt, before);
    assert.equal(ripOf(section(out, 'PAUSED2'))?.[2], 'spin');
    assert.equal(ripOf(section(out, 'MAIN'))?.[2], 'main', 'reverse-continue from a pause to a breakpoint set after it');
    assert.equal(ripOf(section(out, 'PAUSED3'))?.[2], 'spin');
    assert.match(out, new RegExp(`Value returned is \\$\\d+ = ${BigInt(`0x${result}`)}\\b`), 'the rest of the loop computes the recorded result');
    assert.equal(finishedAt, when, 'the loop ends before the next event');
    assert.equal(ripOf(section(out, 'RESTARTED'))?.[1], ripOf(section(out, 'PAUSED3'))?.[1], 'a checkpoint at a pause');
    assert.equal(restartedAt, when);
    const end = section(out, 'END');
    assert.match(out, new RegExp(`^result ${result} after 1 call$`, 'm'), 'the program prints what it printed in the recording');
    assert.match(end, /^\$\d+ = 43$/m, 'it stands at its exit_group(43)');
    assert.equal(ripOf(section(out, 'STAYED'))?.[1], ripOf(end)?.[1], 'an interrupted reverse-continue stays where it was');
    assert.equal(stayedAt, endAt);
  });
});

test('gdb: Ctrl-C while a second thread computes stops that thread in its loop; reverse-stepi, stepi, reverse-continue and continue from there', async () => {
  await withOutputDir('gdb-pause-thread', (dir) => {
    const { trace, result } = record(dir, ['thread']);
    const out = gdbSession(dir, trace, [
      'break before_loop',
      'continue',
      ...interruptIn(500),
      'continue', // interrupted inside spin(), in the worker
      ...show('PAUSED', GENERAL),
      ...show('THREADS', 'info threads'),
      'reverse-stepi',
      ...show('BACK', GENERAL),
      'stepi',
      ...show('AGAIN', GENERAL),
      'reverse-continue',
      ...show('REVERSED', 'info registers rip', 'info threads'),
      'continue',
      ...show('END', 'print $rdi'),
    ]);
    const paused = section(out, 'PAUSED');
    assert.match(out, /Thread 2 "pause_compute" received signal SIGINT, Interrupt\./);
    assert.equal(ripOf(paused)?.[2], 'spin', paused);
    const threads = section(out, 'THREADS');
    assert.match(threads, /^\* 2\s+Thread \d+\.\d+ "pause_compute" (0x[0-9a-f]+ in )?spin /m, `the worker is the current thread, in spin():\n${threads}`);
    assert.match(threads, /^ {2}1\s+Thread \d+\.\d+ "pause_compute" /m);
    assert.equal(ripOf(section(out, 'BACK'))?.[2], 'spin');
    assert.equal(section(out, 'AGAIN'), paused, 'reverse-stepi then stepi comes back to the same registers');
    const reversed = section(out, 'REVERSED');
    assert.equal(ripOf(reversed)?.[2], 'before_loop', reversed);
    assert.match(reversed, /^\* 1\s+Thread/m);
    assert.match(out, new RegExp(`^result ${result} after 1 call$`, 'm'));
    assert.match(section(out, 'END'), /^\$\d+ = 43$/m);
  });
});
