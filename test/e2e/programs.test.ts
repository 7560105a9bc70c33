// Every test program in test/programs/manifest.json runs natively, under
// `trr record` and under `trr replay -a`, once with the syscall buffer and
// once without it (`-n`): recorded and replayed output and status must be
// identical, and recorded output must equal the native run's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RECORD_MODES, buildProgram, manifest, programStderr, recordAndReplay, statusOf, withOutputDir } from '../support/harness.js';

for (const spec of manifest().filter((s) => !s.race)) {
  for (const mode of RECORD_MODES) {
    const variant = spec.static ? 'static' : 'dynamic';
    test(`${spec.name} (${spec.lang}, ${variant}) records and replays exactly, ${mode.label}`, async () => {
      await withOutputDir(`programs-${spec.name}-${variant}-${mode.flags.length ? 'n' : 'buffered'}`, (dir) => {
        const bin = buildProgram(spec, variant);
        const env = { ...process.env, ...(spec.env ?? {}) };
        const { native, recorded, replayed } = recordAndReplay(dir, bin, spec.args ?? [], { cwd: dir, input: spec.stdin ?? '', env, ownSession: spec.ownSession, recordFlags: mode.flags });
        const expected = spec.expect.signal !== undefined ? 128 + spec.expect.signal : (spec.expect.exit ?? 0);
        assert.equal(statusOf(native), expected, `native status\n${native.stderr}`);
        assert.equal(statusOf(recorded), expected, `record status\n${recorded.stderr}`);
        assert.equal(statusOf(replayed), expected, `replay status\n${replayed.stderr}`);
        assert.equal(recorded.stdout, native.stdout, 'recorded stdout differs from native');
        assert.equal(replayed.stdout, recorded.stdout, 'replayed stdout differs from recorded');
        assert.equal(programStderr(replayed.stderr), programStderr(recorded.stderr), 'replayed stderr differs from recorded');
        if (expected === 0) assert.match(native.stdout, /EXIT-SUCCESS/);
        assert.doesNotMatch(recorded.stderr, /internal error/);
      });
    });
  }
}
