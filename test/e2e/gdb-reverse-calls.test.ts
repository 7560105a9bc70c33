// reverse-stepi and a conditional breakpoint going backwards at a function
// that a loop without system calls calls now and then: the breakpoint's
// instruction is reached once in a long run, and trr single-steps from the
// last visit of the call that entered the function (src/replay/call-site.ts)
// instead of counting the loop's iterations. Every stop, backwards (gdb
// steps back off each false hit of the condition with a reverse-stepi) and
// then forwards, must be the one gdb's own `record full` makes on a native
// run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { buildProgram, manifest, trr, withOutputDir } from '../support/harness.js';
import { BIND_NOW, lineOf, native, printed, underTrr } from '../support/gdb-compare.js';

const f = 'reverse_calls.c';
const at = (m: string) => `${f}:${lineOf(f, m)}`;

const body = [
  'N:record full',
  `break ${at('L_end')}`,
  'continue',
  'break hit if i == 1750',
  'reverse-continue', // past the false hits at 2750 and 2250
  'print i',
  'print/x $pc',
  'reverse-stepi', // into the prologue
  'print/x $pc',
  'reverse-stepi',
  'print/x $pc',
  'reverse-stepi',
  'print/x $pc',
  'reverse-stepi', // the call, in main
  'print/x $pc',
  'print i',
  'delete',
  'break framed',
  'reverse-continue', // framed(1403)
  'print i',
  'print/x $pc',
  'reverse-stepi',
  'print/x $pc',
  'reverse-finish',
  'print/x $pc',
  'stepi',
  'print/x $pc',
  'continue', // framed(1403) again
  'print i',
  'print/x $pc',
  'continue', // framed(2103)
  'print i',
];

test('reverse-stepi and a conditional breakpoint going backwards at a function called from a loop without syscalls: the stops of record full', async () => {
  await withOutputDir('gdb-reverse-calls', (dir) => {
    const bin = buildProgram(manifest().find((p) => p.name === 'reverse_calls')!);
    const trace = join(dir, 'trace');
    assert.equal(trr(['record', '-n', '-o', trace, bin], { cwd: dir, env: BIND_NOW }).status, 0);
    const values = printed(native(dir, bin, body, BIND_NOW));
    assert.equal(values.length, 15, `the native run printed ${values.length} values, not 15: see native.log`);
    assert.deepEqual([values[0], values[6], values[7], values[12], values[14]], ['1750', '1750', '1403', '1403', '2103']);
    for (const interval of ['250', '0']) {
      const out = underTrr(dir, trace, body, interval);
      assert.deepEqual(printed(out), values, `trr (checkpoint interval ${interval} ms) differs from the native run: see trr-${interval}.log`);
    }
  });
});

// Going forwards from a stop in the loop's run and then back: trr steps back
// from an image it took where the forward moves started (forward-marks.ts)
// instead of counting the loop's iterations since the run started.
const forwardThenBack = [
  'N:record full',
  'break hit',
  'continue', // hit(250)
  'continue', // hit(750)
  'delete',
  ...Array.from({ length: 5 }, () => ['stepi', 'print/x $pc']).flat(),
  'finish', // a continue to the return address
  'print/x $pc',
  'next',
  'next',
  'print/x $pc',
  'print i',
  ...Array.from({ length: 3 }, () => ['reverse-stepi', 'print/x $pc']).flat(),
  'reverse-next',
  'print/x $pc',
  'print i',
  ...Array.from({ length: 8 }, () => ['reverse-stepi', 'print/x $pc']).flat(),
  'stepi',
  'print/x $pc',
  'reverse-stepi',
  'print/x $pc',
];

test('stepi, finish and next from a stop in a loop without syscalls, then back with reverse-stepi and reverse-next: the stops of record full', async () => {
  await withOutputDir('gdb-reverse-forward-marks', (dir) => {
    const bin = buildProgram(manifest().find((p) => p.name === 'reverse_calls')!);
    const trace = join(dir, 'trace');
    assert.equal(trr(['record', '-n', '-o', trace, bin], { cwd: dir, env: BIND_NOW }).status, 0);
    const values = printed(native(dir, bin, forwardThenBack, BIND_NOW));
    assert.equal(values.length, 23, `the native run printed ${values.length} values, not 23: see native.log`);
    assert.deepEqual([values[7], values[12]], ['751', '750']);
    for (const interval of ['250', '0']) {
      const out = underTrr(dir, trace, forwardThenBack, interval);
      assert.deepEqual(printed(out), values, `trr (checkpoint interval ${interval} ms) differs from the native run: see trr-${interval}.log`);
    }
  });
});
