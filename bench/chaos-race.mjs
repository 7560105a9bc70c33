#!/usr/bin/env node
// How often test/programs/chaos_race.c's race shows: natively, recorded by
// trr with its default scheduler, and recorded with `trr record --chaos`
// (a fresh random seed each time); every recording is replayed and checked
// against the recording. Then a few seeds are recorded several times each,
// to see whether a seed repeats its schedule (the threads of the events, in
// trace order). Prints counts, not timings; nothing here asserts.
//
//   node bench/chaos-race.mjs          (npm run bench runs it too; TRR_BENCH_ONLY=chaos runs only it)
//   TRR_CHAOS_NATIVE=100 TRR_CHAOS_RECORDINGS=30 TRR_CHAOS_REPEATS=3 node bench/chaos-race.mjs
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { buildProgram, manifest } = await import(join(root, 'dist/test/support/harness.js'));
const trr = join(root, 'bin/trr');
const bin = buildProgram(manifest().find((p) => p.name === 'chaos_race'));
const work = mkdtempSync(join(tmpdir(), 'trr-chaos-'));
const nativeRuns = Number(process.env.TRR_CHAOS_NATIVE ?? 100);
const recordings = Number(process.env.TRR_CHAOS_RECORDINGS ?? 30);
const repeats = Number(process.env.TRR_CHAOS_REPEATS ?? 3);

const run = (cmd, args) => spawnSync(cmd, args, { cwd: work, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const bug = (r) => r.status === 1 && /BUG: config built twice/.test(r.stdout);

/** Records (with extra options), replays, and says whether the race showed and whether the replay was exact. */
function recordOnce(extra) {
  const trace = join(work, 'trace');
  rmSync(trace, { recursive: true, force: true });
  const rec = run(process.execPath, [trr, 'record', ...extra, '-o', trace, bin]);
  if (rec.status !== 0 && !bug(rec)) throw new Error(`trr record ${extra.join(' ')} failed (${rec.status}): ${rec.stderr}`);
  const rep = run(process.execPath, [trr, 'replay', '-a', trace]);
  const seed = rec.stderr.match(/chaos mode, seed (\d+)/)?.[1];
  // Threads are named by order of appearance: their tids differ from one recording to the next.
  const names = new Map();
  const tids = run(process.execPath, [trr, 'dump', '--json', trace]).stdout.trim().split('\n').map((l) => JSON.parse(l).tid);
  const schedule = tids.map((t) => (names.has(t) ? names.get(t) : (names.set(t, names.size), names.size - 1))).join(',');
  return { failed: bug(rec), exact: rep.status === rec.status && rep.stdout === rec.stdout, seed, schedule };
}

let nativeFails = 0;
for (let i = 0; i < nativeRuns; i++) if (bug(run(bin, []))) nativeFails++;

const tally = (extra) => {
  let fails = 0;
  let exact = 0;
  const failingSeeds = [];
  for (let i = 0; i < recordings; i++) {
    const r = recordOnce(extra);
    if (r.failed) {
      fails++;
      if (r.seed) failingSeeds.push(r.seed);
    }
    if (r.exact) exact++;
  }
  return { fails, exact, failingSeeds };
};
const plain = tally([]);
const chaos = tally(['--chaos']);

let repeatable = 0;
const seeds = [1, 2, 3, 4, 5];
for (const seed of seeds) {
  const first = recordOnce(['--chaos', '--seed', String(seed)]).schedule;
  let same = true;
  for (let k = 1; k < repeats; k++) if (recordOnce(['--chaos', '--seed', String(seed)]).schedule !== first) same = false;
  if (same) repeatable++;
}

const pct = (n, d) => `${((100 * n) / d).toFixed(0)}%`;
console.log('');
console.log(`chaos mode on test/programs/chaos_race.c (${new Date().toISOString().slice(0, 10)}, load average ${loadavg()[0].toFixed(1)}):`);
console.log(`  native runs                      ${String(nativeFails).padStart(3)} of ${nativeRuns} fail (${pct(nativeFails, nativeRuns)})`);
console.log(`  trr record (default scheduler)   ${String(plain.fails).padStart(3)} of ${recordings} fail (${pct(plain.fails, recordings)}), ${plain.exact} of ${recordings} replay exactly`);
console.log(`  trr record --chaos               ${String(chaos.fails).padStart(3)} of ${recordings} fail (${pct(chaos.fails, recordings)}), ${chaos.exact} of ${recordings} replay exactly`);
console.log(`  same seed, same schedule         ${repeatable} of ${seeds.length} seeds in all of ${repeats} recordings each`);
if (chaos.failingSeeds.length) console.log(`  seeds that showed the race: ${chaos.failingSeeds.slice(0, 5).join(' ')}`);
rmSync(work, { recursive: true, force: true });
