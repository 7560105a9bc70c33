// Thread names in gdb's `info threads` (qXfer:threads:read with name=): the
// name each thread has at the position replay stands at, compared with gdb on
// a native run of a program whose threads name themselves with
// pthread_setname_np (a write to /proc/self/task/TID/comm) and
// prctl(PR_SET_NAME); going backwards gives back the earlier names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { buildProgram, manifest, trr, withOutputDir } from '../support/harness.js';
import { lineOf, native, underTrr } from '../support/gdb-compare.js';

const F = 'catch_events.c';

/** For each `info threads` gdb printed: the name of the current thread, then the others' names, sorted. */
function names(out: string): string[][] {
  const blocks = out.split(/^\s+Id\s+Target Id\s+Frame\s*$/m).slice(1);
  return blocks.map((b) => {
    const rows = [...b.matchAll(/^(\*?)\s+\d+\s+Thread .*?"([^"]*)"/gm)];
    const current = rows.filter((r) => r[1] === '*').map((r) => r[2]!);
    return [...current, ...rows.filter((r) => r[1] !== '*').map((r) => r[2]!).sort()];
  });
}

test('info threads shows the names the threads have at that point, as natively, also after going backwards', async () => {
  await withOutputDir('gdb-thread-names', (dir) => {
    const bin = buildProgram(manifest().find((p) => p.name === 'catch_events')!);
    const trace = join(dir, 'trace');
    assert.equal(trr(['record', '-o', trace, bin], { cwd: dir }).status, 0);
    const body = [
      `break ${F}:${lineOf(F, 'L_named')}`,
      `break ${F}:${lineOf(F, 'L_renamed')} if arg == (void *) 2`,
      `break ${F}:${lineOf(F, 'L_end')}`,
      ...Array.from({ length: 4 }, () => ['continue', 'info threads']).flat(),
    ];
    const expected = names(native(dir, bin, body));
    assert.deepEqual(expected, [['worker-1', 'catch_events'], ['worker-2', 'catch_events'], ['renamed', 'catch_events'], ['main-renamed']], 'see native.log');
    for (const interval of ['0', '250']) {
      const out = underTrr(dir, trace, [...body, 'reverse-continue', 'info threads', 'reverse-continue', 'info threads', 'reverse-continue', 'info threads'], interval);
      const seen = names(out);
      assert.deepEqual(seen.slice(0, 4), expected, `trr (interval ${interval}) forwards`);
      assert.deepEqual(seen.slice(4), [expected[2], expected[1], expected[0]], `trr (interval ${interval}) backwards`);
    }
  });
});
