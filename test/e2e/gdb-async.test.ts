// Real gdb across asynchronous points (signals delivered in the middle of
// user code, found again by state; see docs/ARCHITECTURE.md, "Asynchronous
// points"): breakpoints, a watchpoint, reverse-continue and reverse-stepi,
// with the values and positions checked against the recording (`trr dump`).
// And what happens at a teleport point, which replay restores rather than
// re-executes: gdb does not stop inside the stretch before it, and trr says so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildProgram, manifest, trr, withOutputDir } from '../support/harness.js';

const prog = (name: string) => buildProgram(manifest().find((p) => p.name === name)!);

/** Runs gdb on the replay with a script (checkpoints at every event); returns its output, stdout and stderr. */
function gdbSession(dir: string, trace: string, script: string[]): string {
  const file = join(dir, 'script.gdb');
  writeFileSync(file, script.join('\n') + '\n');
  const env = { ...process.env, TRR_CHECKPOINT_INTERVAL_MS: '0' };
  const r = trr(['replay', trace, '--', '-nx', '-batch', '-x', file], { timeoutMs: 180_000, env });
  writeFileSync(join(dir, 'gdb.log'), `${r.stdout}\n--- stderr\n${r.stderr}`);
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /diverged/);
  return `${r.stdout}\n${r.stderr}`;
}

interface AsyncSignal {
  /** Index of the async-point record; the signal record follows it. */
  readonly point: number;
  readonly ip: bigint;
  readonly teleport: boolean;
}

/** The signals of the trace delivered at asynchronous points, as `trr dump` lists them. */
function asyncSignals(trace: string): AsyncSignal[] {
  const d = trr(['dump', trace]);
  assert.equal(d.status, 0, d.stderr);
  const lines = d.stdout.split('\n');
  const out: AsyncSignal[] = [];
  lines.forEach((l, i) => {
    const m = l.match(/^\s*(\d+)\s+\d+\s+\d+\s+stopped in user code for a signal at ip 0x([0-9a-f]+)( \(teleport)?/);
    if (m && /^\s*\d+\s+\d+\s+\d+\s+signal SIG\w+: handler/.test(lines[i + 1] ?? '')) out.push({ point: Number(m[1]), ip: BigInt(`0x${m[2]}`), teleport: m[3] !== undefined });
  });
  return out;
}

/** Records PROG ARGS until its first signal is delivered at an asynchronous point (a loaded machine may deliver it elsewhere). */
function recordWithAsyncSignal(dir: string, bin: string, args: string[]): { trace: string; signals: AsyncSignal[]; deliveries: number[] } {
  for (let attempt = 0; ; attempt++) {
    const trace = join(dir, `trace-${attempt}`);
    const rec = trr(['record', '-o', trace, bin, ...args]);
    assert.equal(rec.status, 0, rec.stderr);
    const signals = asyncSignals(trace);
    // Every delivery to a handler, at an asynchronous point or at a syscall boundary.
    const deliveries = [...trr(['dump', trace]).stdout.matchAll(/^\s*(\d+)\s+\d+\s+\d+\s+signal SIG\w+: handler/gm)].map((m) => Number(m[1]));
    if ((signals.length >= 1 && signals[0]!.point + 1 === deliveries[0] && deliveries.length >= 2) || attempt === 2) {
      assert.ok(deliveries.length >= 2, `fewer than two signal deliveries in ${trace}`);
      assert.equal(signals[0]?.point, deliveries[0]! - 1, 'the first signal was not delivered at an asynchronous point');
      return { trace, signals, deliveries };
    }
  }
}

const printed = (out: string, n: number) => out.match(new RegExp(`^\\$${n} = (.*)$`, 'm'))?.[1];
const events = (out: string) => [...out.matchAll(/^Current event: (\d+)$/gm)].map((m) => Number(m[1]));

test('gdb across timer signals in a syscall-free loop: breakpoint, watchpoint, reverse-stepi and reverse-continue, as recorded', async () => {
  await withOutputDir('gdb-async-timer', (dir) => {
    const { trace, signals, deliveries } = recordWithAsyncSignal(dir, prog('async_timer_itimer'), ['itimer']);
    const one = signals[0]!;
    assert.equal(one.teleport, false, 'a spin loop waiting for a signal is an ordinary point');
    const out = gdbSession(dir, trace, [
      'break on_tick',
      'continue',
      'print ticks', // $1: in the first handler, before its increment
      'monitor when',
      'reverse-stepi', // back over the delivery: to where the recording stopped the loop
      'print/x $pc', // $2
      'monitor when',
      'stepi', // forwards again: the step delivers the signal, as natively
      'print $pc == on_tick', // $3
      'monitor when',
      'watch ticks',
      'continue', // the handler's increment
      'continue', // the second handler
      'print ticks', // $4
      'monitor when',
      'reverse-continue', // back to the first increment
      'print ticks', // $5
      'reverse-continue', // back to the first handler's entry
      'print ticks', // $6
      'print $pc == on_tick', // $7
      'monitor when',
    ]);
    const when = events(out);
    assert.equal(printed(out, 1), '0');
    assert.equal(printed(out, 2), `0x${one.ip.toString(16)}`, 'reverse-stepi from the handler lands where the recording stopped the thread');
    assert.equal(printed(out, 3), '1');
    assert.equal(printed(out, 4), '1');
    assert.equal(printed(out, 5), '0');
    assert.equal(printed(out, 6), '0');
    assert.equal(printed(out, 7), '1');
    // Positions: after the first signal's record, at the asynchronous point (before it), after it again; after the second; back after the first.
    assert.deepEqual(when, [one.point + 2, one.point + 1, one.point + 2, deliveries[1]! + 1, one.point + 2]);
    assert.match(out, /Hardware watchpoint 2: ticks\s+Old value = 0\s+New value = 1/);
    assert.match(out, /Hardware watchpoint 2: ticks\s+Old value = 1\s+New value = 0/, 'reverse-continue stops at the increment, going backwards');
    assert.equal([...out.matchAll(/Breakpoint 1, on_tick/g)].length, 4);
  });
});

test('gdb at teleport points: breakpoints in the restored stretch are not hit, trr says so, and the replay goes on as recorded', async () => {
  await withOutputDir('gdb-async-teleport', (dir) => {
    const trace = join(dir, 'trace');
    const rec = trr(['record', '-o', trace, prog('async_prof')]);
    assert.equal(rec.status, 0, rec.stderr);
    const signals = asyncSignals(trace);
    const first = signals[0];
    assert.ok(first?.teleport, 'async_prof computes between its samples: its first sample is a teleport point');
    const out = gdbSession(dir, trace, [
      'break on_prof',
      'break work',
      'continue', // work() runs before the first sample, inside the restored stretch
      'print samples', // $1
      'monitor when',
      'reverse-stepi', // to the teleport point itself
      'print/x $pc', // $2
      'monitor when',
      'reverse-stepi', // there is no instruction before a teleport point in the replay: the event before it
      'monitor when',
      'delete',
      'continue',
    ]);
    assert.match(out, /trr: thread \d+ computed without system calls before event \d+, where the recording preempted it at a point replay restores rather than re-executes; breakpoints and watchpoints do not stop in such stretches\./);
    assert.match(out, /Breakpoint 1, on_prof/);
    assert.doesNotMatch(out, /Breakpoint 2, work/, 'work() ran only inside restored stretches');
    assert.equal(printed(out, 1), '0');
    assert.equal(printed(out, 2), `0x${first.ip.toString(16)}`);
    assert.deepEqual(events(out), [first.point + 2, first.point + 1, first.point]);
    assert.match(out, /samples: at least 20, most in work\(\): yes/);
  });
});
