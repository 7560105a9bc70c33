// Every way bytes leave the recorded program must come out of the replay the
// same: bytes moved to stdout inside the kernel (sendfile, splice, tee,
// copy_file_range), output of a thread that outlives its thread-group
// leader, and the interleaving of writes from several threads and processes.
// What trr cannot record (32-bit system calls) stops recording loudly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { buildProgram, manifest, run, saveLog, trr, trrBin, withOutputDir, type ProgramSpec } from '../support/harness.js';

const program = (name: string): string =>
  buildProgram(manifest().find((p) => p.name === name) ?? ({ name, source: `${name}.c`, lang: 'c', expect: {} } satisfies ProgramSpec));

/** Runs `trr ARGS > out` through the shell, so that trr's stdout is a regular file. */
function trrToFile(dir: string, args: readonly string[], out: string): ReturnType<typeof run> {
  const quoted = [process.execPath, trrBin, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = run('/bin/sh', ['-c', `${quoted} > '${out}'`], { cwd: dir });
  saveLog(dir, args[0]!, r);
  return r;
}

test('sendfile and copy_file_range to a stdout that is a regular file replay byte for byte', async () => {
  await withOutputDir('output-transfers-file', (dir) => {
    const bin = program('transfers');
    const nat = run('/bin/sh', ['-c', `'${bin}' > native.txt`], { cwd: dir });
    assert.equal(nat.status, 0, nat.stderr);
    const rec = trrToFile(dir, ['record', '-o', join(dir, 'trace'), bin], join(dir, 'record.txt'));
    assert.equal(rec.status, 0, rec.stderr);
    const rep = trrToFile(dir, ['replay', '-a', join(dir, 'trace')], join(dir, 'replay.txt'));
    assert.equal(rep.status, 0, rep.stderr);
    const native = readFileSync(join(dir, 'native.txt'), 'utf8');
    assert.match(native, /copy_file_range to a file\n/);
    assert.equal(readFileSync(join(dir, 'record.txt'), 'utf8'), native);
    assert.equal(readFileSync(join(dir, 'replay.txt'), 'utf8'), native);
  });
});

test('cat of a file (copy_file_range to a stdout that is a file) inside a shell replays its output', async () => {
  await withOutputDir('output-cat', (dir) => {
    const trace = join(dir, 'trace');
    const rec = trrToFile(dir, ['record', '-o', trace, '/bin/sh', '-c', 'date +%N > f; cat f; cat f f'], join(dir, 'record.txt'));
    assert.equal(rec.status, 0, rec.stderr);
    const recorded = readFileSync(join(dir, 'record.txt'), 'utf8');
    assert.match(recorded, /^(\d+)\n\1\n\1\n$/);
    const rep = trrToFile(dir, ['replay', '-a', trace], join(dir, 'replay.txt'));
    assert.equal(rep.status, 0, rep.stderr);
    assert.equal(readFileSync(join(dir, 'replay.txt'), 'utf8'), recorded);
    const dump = trr(['dump', trace]).stdout;
    assert.ok(/copy_file_range\(3, NULL, 1/.test(dump), 'cat no longer copies inside the kernel: the test covers nothing');
  });
});

test('a thread that outlives its leader: its output is replayed and ps shows the process status', async () => {
  await withOutputDir('output-leader-exit', (dir) => {
    const trace = join(dir, 'trace');
    const rec = trr(['record', '-o', trace, program('leader_exit')], { cwd: dir });
    saveLog(dir, 'record', rec);
    assert.equal(rec.status, 3, rec.stderr);
    assert.match(rec.stdout, /worker: printf after the leader exited/);
    const rep = trr(['replay', '-a', trace]);
    saveLog(dir, 'replay', rep);
    assert.equal(rep.status, 3, rep.stderr);
    assert.equal(rep.stdout, rec.stdout);
    const ps = trr(['ps', trace]);
    assert.equal(ps.status, 0, ps.stderr);
    const row = ps.stdout.trim().split('\n')[1]!.split('\t');
    assert.equal(row[2], '3', ps.stdout);
  });
});

test('a recording ends with the initial process: a daemon it leaves behind is killed, and ps says so', async () => {
  await withOutputDir('lifetime-daemon', (dir) => {
    const trace = join(dir, 'trace');
    const rec = trr(['record', '-o', trace, program('daemon_child')], { cwd: dir });
    saveLog(dir, 'record', rec);
    assert.equal(rec.status, 0, rec.stderr);
    const rows = trr(['ps', trace]).stdout.trim().split('\n').slice(1).map((l) => l.split('\t'));
    assert.equal(rows.length, 3);
    assert.deepEqual(rows.map((r) => r[2]), ['0', '0', '-9'], 'the daemon was not killed when the recording ended');
    const rep = trr(['replay', '-a', trace]);
    assert.equal(rep.status, 0, rep.stderr);
    assert.equal(rep.stdout, rec.stdout);
  });
});

test('writes from several threads and processes replay in the recorded interleaving', async () => {
  await withOutputDir('output-order', (dir) => {
    const bin = program('output_order');
    for (let i = 0; i < 3; i++) {
      const trace = join(dir, `trace-${i}`);
      const rec = trr(['record', '-o', trace, bin], { cwd: dir });
      saveLog(dir, `record-${i}`, rec);
      assert.equal(rec.status, 0, rec.stderr);
      assert.equal(rec.stdout.split('\n').length, 6 * 200 + 2);
      const rep = trr(['replay', '-a', trace]);
      saveLog(dir, `replay-${i}`, rep);
      assert.equal(rep.status, 0, rep.stderr);
      assert.equal(rep.stdout, rec.stdout, `replay ${i}: stdout interleaving differs from the recording`);
      assert.equal(rep.stderr, rec.stderr, `replay ${i}: stderr interleaving differs from the recording`);
    }
  });
});

test('huge sparse files that the program maps are not copied whole into the trace', async () => {
  await withOutputDir('sparse-map', (dir) => {
    const trace = join(dir, 'trace');
    const rec = trr(['record', '-o', trace, program('sparse_map')], { cwd: dir });
    saveLog(dir, 'record', rec);
    assert.equal(rec.status, 0, rec.stderr);
    const files = join(trace, 'files');
    const apparent = readdirSync(files).reduce((n, f) => n + statSync(join(files, f)).size, 0);
    const allocated = readdirSync(files).reduce((n, f) => n + statSync(join(files, f)).blocks * 512, 0);
    assert.ok(apparent > 16 * 2 ** 30, `the copies hold ${apparent} bytes: the huge files were not mapped`);
    assert.ok(allocated < 64 * 2 ** 20, `the trace's copies take ${allocated} bytes on disk`);
    const rep = trr(['replay', '-a', trace]);
    saveLog(dir, 'replay', rep);
    assert.equal(rep.status, 0, rep.stderr);
    assert.equal(rep.stdout, rec.stdout);
  });
});

test('a 32-bit system call (int $0x80) stops recording with an explanation', async () => {
  await withOutputDir('output-int80', (dir) => {
    const trace = join(dir, 'trace');
    const rec = trr(['record', '-o', trace, program('int80')], { cwd: dir });
    saveLog(dir, 'record', rec);
    assert.notEqual(rec.status, 0);
    assert.match(rec.stderr, /32-bit system call \(int \$0x80, i386 syscall number 4\)/);
    assert.doesNotMatch(rec.stderr, /internal error|\n\s+at /);
    const rep = trr(['replay', '-a', trace]);
    saveLog(dir, 'replay', rep);
    assert.equal(rep.stdout, 'before the 32-bit call\n');
    assert.match(rep.stderr, /incomplete/);
  });
});
