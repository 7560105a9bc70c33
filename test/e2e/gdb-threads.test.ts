// Stepping and continuing one chosen thread under gdb (`thread N`, `stepi`,
// `next`, `finish`, `set scheduler-locking on`): gdb names the thread in
// its vCont packets, and the stop must be that thread's. The same gdb script
// runs on a native run of test/programs/thread_step.c and on trr's replay
// of a recording of it; a Python stop hook prints, at every stop, the thread
// gdb reports, its function, line and instruction, and both must print the
// same. thread_step.c makes where each thread stands the same in every run
// (the worker stops at L_w1 only once the main thread sleeps in sem_wait).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildProgram, manifest, repoRoot, run, trr, withOutputDir } from '../support/harness.js';

const NAME = 'thread_step';
const FILE = 'thread_step.c';
const bin = () => buildProgram(manifest().find((p) => p.name === NAME)!);

/** `thread_step.c:LINE` of the line carrying the comment marker `/* L_x *\/`. */
function at(marker: string): string {
  const i = readFileSync(join(repoRoot, 'test', 'programs', FILE), 'utf8').split('\n').findIndex((l) => l.includes(`/* ${marker} */`));
  assert.ok(i >= 0, `no ${marker} in ${FILE}`);
  return `${FILE}:${i + 1}`;
}

const STOP_HOOK = `import gdb
def on_stop(ev):
    f = gdb.selected_frame()
    sal = f.find_sal()
    insn = gdb.execute('x/i $pc', to_string=True).strip().split(':')[0].lstrip('=> ')
    print('STOP thread=%d func=%s line=%d at=%s' % (gdb.selected_thread().num, f.name(), sal.line if sal.symtab else 0, insn))
gdb.events.stop.connect(on_stop)
`;

/** The script after the start: run natively, continue under trr. */
function script(dir: string, name: string, start: string, body: readonly string[]): string {
  writeFileSync(join(dir, 'stop.py'), STOP_HOOK);
  const file = join(dir, name);
  writeFileSync(file, ['set pagination off', 'set confirm off', `source ${join(dir, 'stop.py')}`, ...start.split('\n'), ...body].join('\n') + '\n');
  return file;
}

function stops(out: string): string[] {
  return [...out.matchAll(/^STOP .*$/gm)].map((m) => m[0]);
}

function underTrr(dir: string, trace: string, name: string, body: readonly string[], intervalMs: string): string {
  const env = { ...process.env, TRR_CHECKPOINT_INTERVAL_MS: intervalMs };
  // Stop at main first, as the native run does after `run`: gdb knows the program's threads library from there on.
  const r = trr(['replay', trace, '--', '-nx', '-batch', '-x', script(dir, `${name}-${intervalMs}.gdb`, 'break main\ncontinue\ndelete', body)], { timeoutMs: 120_000, env });
  writeFileSync(join(dir, `${name}-${intervalMs}.log`), `${r.stdout}\n--- stderr\n${r.stderr}`);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

test('gdb: thread N, then stepi, next and finish step that thread and report its stop, as natively', async () => {
  await withOutputDir('gdb-thread-step', (dir) => {
    const trace = join(dir, 'trace');
    // Without the syscall buffer: its library moves libc, and the instructions are compared with a native run.
    assert.equal(trr(['record', '-n', '-o', trace, bin()], { cwd: dir }).status, 0);
    const body = [
      `break ${at('L_w1')}`,
      'continue', // the worker stops at L_w1; the main thread sleeps in sem_wait(&back)
      `break ${at('L_w3')}`,
      'thread 1',
      'stepi', // the worker runs meanwhile and hits L_w3 first: that stop ends the step
      'thread 1',
      'stepi', // the main thread's futex wait returns: it stops after the syscall instruction
      'stepi',
      'python\nfor i in range(8):\n    if gdb.selected_frame().name() == "main": break\n    gdb.execute("finish")\nend',
      'next',
      'set scheduler-locking on',
      'next',
      'next',
      `tbreak ${at('L_w6')}`,
      'thread 2',
      'continue', // only the worker's stops count; the main thread runs as recorded
      'next',
    ];
    const nativeRun = run('gdb', ['-nx', '-batch', '-x', script(dir, 'native.gdb', 'break main\nrun\ndelete', body), bin()], { cwd: dir, timeoutMs: 60_000 });
    writeFileSync(join(dir, 'native.log'), `${nativeRun.stdout}\n--- stderr\n${nativeRun.stderr}`);
    const expected = stops(nativeRun.stdout).slice(1); // after main
    assert.ok(expected.length >= 10, `the native run stopped ${expected.length} times: see native.log`);
    assert.match(expected[1]!, /^STOP thread=2 func=worker line=\d+/);
    assert.match(expected[2]!, /^STOP thread=1 /);
    assert.match(expected.at(-1)!, /^STOP thread=2 func=worker/);
    for (const interval of ['0', '250']) {
      const out = underTrr(dir, trace, 'trr', body, interval);
      assert.deepEqual(stops(out).slice(1), expected, `trr (checkpoint interval ${interval} ms) differs from the native run`);
      assert.doesNotMatch(out, /received signal SIGTRAP/);
    }
  });
});

test('gdb: under scheduler-locking a step of a blocked thread completes, the other thread running as recorded past its breakpoints', async () => {
  await withOutputDir('gdb-thread-locked', (dir) => {
    const trace = join(dir, 'trace');
    assert.equal(trr(['record', '-n', '-o', trace, bin()], { cwd: dir }).status, 0);
    // Natively this step would never end: the worker, held back, never posts the semaphore the main thread waits for.
    const body = [`break ${at('L_w1')}`, 'continue', `break ${at('L_w3')}`, 'set scheduler-locking on', 'thread 1', 'stepi', 'print $_thread', 'thread 2', 'print w', 'thread 1', 'reverse-stepi', 'x/i $pc', 'print $_thread'];
    for (const interval of ['0', '250']) {
      const out = underTrr(dir, trace, 'locked', body, interval);
      const s = stops(out);
      assert.match(s[1]!, /^STOP thread=2 func=worker /, out);
      assert.match(s[2]!, /^STOP thread=1 func=__futex_abstimed_wait_common/, out);
      assert.doesNotMatch(out, /hit Breakpoint 3,/, 'the worker\'s breakpoint at L_w3 stopped a step of the main thread under scheduler-locking');
      assert.match(out, /^\$1 = 1$/m);
      // The worker went past L_w3 (its sem_post there woke the main thread) while the main thread's syscall finished.
      assert.match(out, /^\$2 = [23]$/m);
      // Back one instruction: the syscall instruction of the main thread's futex wait.
      assert.match(out, /^=> 0x[0-9a-f]+ <[^>]+>:\s+syscall/m);
      assert.match(out, /^\$3 = 1$/m);
    }
  });
});
