// Going back to the start of the recording under gdb: the program's globals
// keep their types. gdb 13 caches the libraries it read per r_debug address
// and, back at the start where the executable's DT_DEBUG is 0 again, left the
// executable out of its search for global symbols ("'g_calls' has unknown
// type; cast it to its declared type") until trr answered
// qXfer:libraries-svr4 (src/gdb/libraries-svr4.ts). The values printed there
// are compared with a native run stopped at the same places (`main` stands
// for the start: the globals have their initial values at both).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { buildProgram, manifest, trr, withOutputDir } from '../support/harness.js';
import { native, printed, underTrr } from '../support/gdb-compare.js';

test('globals keep their types after reverse-continue to the start and after monitor restart', async () => {
  await withOutputDir('gdb-reverse-start-types', (dir) => {
    const bin = buildProgram(manifest().find((p) => p.name === 'reverse_exact')!);
    const trace = join(dir, 'trace');
    trr(['record', '-o', trace, bin], { cwd: dir }); // with the syscall buffer: its library is one more in the list
    const body = [
      'T:next',
      'T:next',
      'T:delete',
      'T:reverse-continue',
      'print g_calls',
      'print sizeof(g_calls)',
      'print &g_calls == &g_calls',
      'break bump',
      'continue',
      'print g_calls',
      'T:monitor restart',
      'T:maintenance flush register-cache',
      'print g_calls + 10',
      'print sizeof(g)',
    ];
    const expected = printed(native(dir, bin, body));
    assert.deepEqual(expected, ['0', '4', '1', '0', '10', '4'], 'see native.log');
    for (const interval of ['0', '250']) {
      const out = underTrr(dir, trace, body, interval);
      assert.doesNotMatch(out, /unknown type/, `trr-${interval}.log`);
      assert.match(out, /No more reverse-execution history/, `trr-${interval}.log: the reverse-continue did not reach the start`);
      assert.deepEqual(printed(out), expected, `trr (checkpoint interval ${interval} ms) differs from the native run: see trr-${interval}.log`);
    }
  });
});
