// A recording long enough to span many frames of the events file: replay,
// dump and ps read it frame by frame (the reader keeps a few decoded frames,
// never the whole trace), and damage in a frame far from the start is still
// a clean error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FRAME_CACHE_SIZE, TraceReader } from '../../src/trace/trace-stream.js';
import { buildProgram, manifest, trr, withOutputDir } from '../support/harness.js';

function assertCleanError(r: { status: number | null; stderr: string }, pattern: RegExp): void {
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at .*\(.*:\d+:\d+\)/, 'no stack trace');
  assert.doesNotMatch(r.stderr, /internal error/);
}

test('a recording of 100,000+ syscalls replays, dumps and lists through many frames', async () => {
  await withOutputDir('long-trace', (dir) => {
    const bin = buildProgram(manifest().find((p) => p.name === 'manyfiles')!);
    const trace = join(dir, 'trace');
    // Without the syscall buffer, so that every syscall is an event of its own.
    const rec = trr(['record', '-n', '-o', trace, bin, '13000'], { cwd: dir });
    assert.equal(rec.status, 0, rec.stderr);
    assert.match(rec.stdout, /EXIT-SUCCESS/);

    const reader = TraceReader.open(trace);
    const events = reader.eventCount;
    assert.ok(events > 100_000, `${events} events`);
    assert.ok(reader.frameStats.frames > 4 * FRAME_CACHE_SIZE, `${reader.frameStats.frames} frames`);

    const rep = trr(['replay', '-a', trace]);
    assert.equal(rep.status, 0, rep.stderr);
    assert.equal(rep.stdout, rec.stdout);

    const dump = trr(['dump', trace]);
    assert.equal(dump.status, 0, dump.stderr);
    const lines = dump.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 1 + events);
    assert.match(lines.at(-1)!, new RegExp(`^\\s*${events - 1} .*end of recording \\(exit 0\\)`));
    const ps = trr(['ps', trace]);
    assert.equal(ps.status, 0, ps.stderr);
    assert.match(ps.stdout, /\t--\t0\t.*manyfiles 13000\n$/);

    // Damage in the body of a frame in the middle.
    const path = join(trace, 'events');
    const data = readFileSync(path);
    let off = 8;
    for (let k = 0; k < Math.floor(reader.frameStats.frames / 2); k++) off += 20 + data.readUInt32LE(off);
    data[off + 20 + 10]! ^= 0x55;
    writeFileSync(path, data);
    const corrupt = new RegExp(`events offset ${off}: frame checksum mismatch; the trace is corrupt`);
    const bad = trr(['replay', '-a', trace]);
    assertCleanError(bad, corrupt);
    assert.equal(bad.stdout, '', 'replay checks every frame before the program runs');
    assertCleanError(trr(['dump', trace]), corrupt);
    assertCleanError(trr(['ps', trace]), corrupt);
  });
});
