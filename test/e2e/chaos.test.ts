// trr record --chaos: the seed is printed and kept, recordings with
// different seeds have different schedules, and every chaos recording
// replays exactly (output, status, and replay's own checks at every event).
// The seeds below were chosen by running them (2026-12-04): with seed
// 3299312164 the worker runs first and is switched out in the middle of its
// lazy initialisation (chaos_race's bug shows), with 1328510569 main runs
// through it first. The test asserts only what holds whatever the machine's
// load (time-based preemption may add switches): that the two schedules
// differ and that each replays as recorded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { assertCleanError, buildProgram, manifest, programStderr, run, saveLog, statusOf, trr, withOutputDir } from '../support/harness.js';

const prog = (name: string) => buildProgram(manifest().find((p) => p.name === name)!);

/** The thread of every event, in trace order: the schedule (threads numbered in order of appearance, as tids differ between recordings). */
function schedule(trace: string): number[] {
  const d = trr(['dump', '--json', trace]);
  assert.equal(d.status, 0, d.stderr);
  const names = new Map<number, number>();
  return d.stdout
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { tid: number }).tid)
    .map((t) => {
      if (!names.has(t)) names.set(t, names.size);
      return names.get(t)!;
    });
}

/** Records PROG with --chaos --seed SEED, replays it, and checks the replay against the recording. */
function recordChaos(dir: string, name: string, bin: string, seed: number, extra: string[] = []) {
  const trace = join(dir, name);
  const rec = trr(['record', '--chaos', '--seed', String(seed), ...extra, '-o', trace, bin]);
  saveLog(dir, `${name}-record`, rec);
  assert.match(rec.stderr, new RegExp(`^trr: chaos mode, seed ${seed} \\(.*--seed ${seed}.*\\)$`, 'm'));
  assert.equal(rec.stderr.split('\n').filter((l) => l.includes('chaos mode')).length, 1, 'the seed is printed once');
  const rep = trr(['replay', '-a', trace]);
  saveLog(dir, `${name}-replay`, rep);
  assert.equal(statusOf(rep), statusOf(rec), `replay status\n${rep.stderr}`);
  assert.equal(rep.stdout, rec.stdout, 'replayed stdout differs from the recording');
  assert.equal(programStderr(rep.stderr), programStderr(rec.stderr));
  return { trace, rec };
}

test('chaos mode: bad --seed values and --seed without --chaos are usage errors', () => {
  for (const v of ['abc', '-1', '4294967296', '1.5', '']) {
    assertCleanError(trr(['record', '--chaos', '--seed', v, '/bin/true']), /--seed takes a whole number from 0 to 4294967295/, 2);
  }
  assertCleanError(trr(['record', '--seed', '5', '/bin/true']), /--seed only means something with --chaos/, 2);
});

test('chaos mode: different seeds give different schedules of chaos_race, each replays exactly; the seed is in the header', async () => {
  await withOutputDir('chaos-seeds', (dir) => {
    const bin = prog('chaos_race');
    const a = recordChaos(dir, 'a', bin, 3299312164);
    const b = recordChaos(dir, 'b', bin, 1328510569);
    for (const r of [a.rec, b.rec]) assert.match(r.stdout, /^(config built once|BUG: config built twice)/m);
    assert.notDeepEqual(schedule(a.trace), schedule(b.trace), 'two seeds, one schedule');
    const dump = trr(['dump', a.trace]);
    assert.match(dump.stdout.split('\n')[0]!, /^\(recorded in chaos mode, seed 3299312164/);
    const ls = trr(['ls'], { env: { ...process.env, TRR_TRACE_DIR: dir } });
    assert.match(ls.stdout, /^a\t.*\[chaos seed 3299312164\]$/m);
    assert.match(ls.stdout, /^b\t.*\[chaos seed 1328510569\]$/m);
  });
});

test('chaos mode: spinning and computing threads (asynchronous points) replay exactly, with and without the syscall buffer', async () => {
  await withOutputDir('chaos-async', (dir) => {
    for (const name of ['async_flag', 'async_spinlock', 'threads']) {
      const bin = prog(name);
      const native = run(bin, []);
      for (const [seed, extra] of [[11, []], [12, ['-n']]] as const) {
        const { rec } = recordChaos(dir, `${name}-${seed}`, bin, seed, [...extra]);
        assert.equal(statusOf(rec), statusOf(native), `${name}: record status\n${rec.stderr}`);
        assert.equal(rec.stdout, native.stdout, `${name}: recorded output differs from native`);
      }
    }
  });
});
