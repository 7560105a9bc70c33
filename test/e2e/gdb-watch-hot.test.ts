// Watchpoints going backwards on a page that a loop writes all the time:
// trr redirects the loop's fixed-address stores away from the watched page
// (src/replay/watch-alias.ts) and must still stop at every change of the
// watched value, in both directions, as gdb's own `record full` does on a
// native run: a fixed-address store, one through a pointer, a one-byte store,
// and an excursion that puts the old value back one iteration later (which
// a search comparing values at checkpoints would miss).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { buildProgram, manifest, trr, withOutputDir } from '../support/harness.js';
import { BIND_NOW, lineOf, native, printed, underTrr } from '../support/gdb-compare.js';

const f = 'watch_hot.c';
const at = (m: string) => `${f}:${lineOf(f, m)}`;

/** Runs `body` natively and under trr, with the checkpoint intervals and environments given; the printed values must be the same. */
function compare(dir: string, body: readonly string[], expectCount: number, envs: readonly NodeJS.ProcessEnv[]): string[] {
  const bin = buildProgram(manifest().find((p) => p.name === 'watch_hot')!);
  const trace = join(dir, 'trace');
  trr(['record', '-n', '-o', trace, bin], { cwd: dir, env: BIND_NOW });
  const values = printed(native(dir, bin, body, BIND_NOW));
  assert.equal(values.length, expectCount, `the native run printed ${values.length} values, not ${expectCount}: see native.log`);
  for (const env of envs) {
    for (const interval of ['0', '250']) {
      const saved = { ...process.env };
      Object.assign(process.env, env);
      try {
        const out = underTrr(dir, trace, body, interval);
        assert.deepEqual(printed(out), values, `trr (checkpoint interval ${interval} ms, ${JSON.stringify(env)}) differs from the native run: see trr-${interval}.log`);
      } finally {
        for (const k of Object.keys(env)) if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    }
  }
  return values;
}

const body = [
  'N:record full',
  `break ${at('L_end')}`,
  'continue',
  'N:set can-use-hw-watchpoints 0', // record full checks software watchpoints at every step
  'watch g_watched',
  'reverse-continue', // the one-byte store
  'print g_watched',
  'print/x $pc',
  'reverse-continue', // through the pointer
  'print g_watched',
  'print/x $pc',
  'reverse-continue', // the excursion's way back
  'print g_watched',
  'print/x $pc',
  'reverse-continue', // the excursion
  'print g_watched',
  'print/x $pc',
  'reverse-continue', // the first write
  'print g_watched',
  'print/x $pc',
  'continue',
  'print g_watched',
  'print/x $pc',
  'continue',
  'print g_watched',
  'print/x $pc',
];

test('watch on a page a loop writes all the time: every write found going backwards and forwards, as under record full, with and without redirected stores', async () => {
  await withOutputDir('gdb-watch-hot', (dir) => {
    const values = compare(dir, body, 14, [{}, { TRR_NO_WATCH_ALIAS: '1' }]);
    assert.deepEqual(values.filter((_, i) => i % 2 === 0), ['3', '1', '2', '1', '0', '1', '2']);
  });
});
