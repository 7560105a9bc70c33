// Watchpoints going backwards over long stretches of events: a watched local
// written early, in the middle and late among many system calls, on a stack
// page the program writes all the time. Before searching such a stretch with
// the watch armed, trr images it every few events (one fast replay with the
// watch lifted), searches from the image nearest the end, and goes to the
// write it found from the latest image before it (src/replay/reverse.ts,
// densify and nearestBefore). Every stop, backwards and then forwards again,
// must be the one gdb's own `record full` makes on a native run, with the
// default checkpoint interval (few checkpoints: the stretch is imaged) and
// with a checkpoint at every event.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { buildProgram, manifest, trr, withOutputDir } from '../support/harness.js';
import { BIND_NOW, lineOf, native, printed, underTrr } from '../support/gdb-compare.js';

const f = 'watch_late.c';
const at = (m: string) => `${f}:${lineOf(f, m)}`;

const stop = ['print *$w', 'print/x $pc']; // `watched` is out of scope in touch()
const body = [
  'N:record full',
  `break ${at('L_end')}`,
  'continue',
  'N:set can-use-hw-watchpoints 0', // record full checks software watchpoints at every step
  'set var $w = &watched',
  'watch -l watched',
  ...Array.from({ length: 4 }, () => ['reverse-continue', ...stop]).flat(), // the excursion's way back, the excursion, the direct store, touch(2)
  ...Array.from({ length: 4 }, () => ['continue', ...stop]).flat(),
];

test('watch -l going backwards over long stretches of events: every write found, as under record full, with few checkpoints and with one at every event', async () => {
  await withOutputDir('gdb-watch-late', (dir) => {
    const bin = buildProgram(manifest().find((p) => p.name === 'watch_late')!);
    const trace = join(dir, 'trace');
    assert.equal(trr(['record', '-n', '-o', trace, bin], { cwd: dir, env: BIND_NOW }).status, 0);
    const values = printed(native(dir, bin, body, BIND_NOW));
    assert.equal(values.length, 16, `the native run printed ${values.length} values, not 16: see native.log`);
    assert.deepEqual(values.filter((_, i) => i % 2 === 0), ['7', '5', '2', '1', '2', '5', '7', '5']);
    for (const interval of ['250', '2', '0']) {
      const out = underTrr(dir, trace, body, interval);
      assert.deepEqual(printed(out), values, `trr (checkpoint interval ${interval} ms) differs from the native run: see trr-${interval}.log`);
    }
  });
});
