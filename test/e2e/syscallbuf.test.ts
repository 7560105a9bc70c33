// The syscall buffer (src/preload): the syscallbuf test program recorded
// with and without it, replayed, output compared; `trr dump` marks buffered
// calls; a recording killed in the middle of buffered stretches replays up
// to its last complete event; gdb goes backwards across a buffered stretch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildProgram, manifest, recordBothModes, run, trr, trrBin, withOutputDir } from '../support/harness.js';

const spec = manifest().find((p) => p.name === 'syscallbuf')!;

test('syscallbuf: recorded with and without the syscall buffer, both replay the native output; dump marks buffered calls', async () => {
  await withOutputDir('syscallbuf-on-off', (dir) => {
    const bin = buildProgram(spec);
    const native = run(bin, [], { cwd: dir });
    assert.equal(native.status, 0, native.stderr);
    recordBothModes(dir, bin, [], native.stdout, (mode, dump, trace) => {
      const buffered = dump.split('\n').filter((l) => l.endsWith('(buffered)'));
      if (mode.flags.length === 0) {
        assert.ok(buffered.length > 100000, `only ${buffered.length} buffered calls`);
        assert.match(dump, /^ *\d+\.\d+ +\d+ +\d+  getppid\(\) = \d+ \(buffered\)$/m);
        assert.match(dump, /^ *\d+\.\d+ +\d+ +\d+  write\(\d+, 0x[0-9a-f]+, 14\) = 14 \(buffered\)$/m);
        assert.match(dump, /trr_syscall_buffer_init\(0x[0-9a-f]+, 1048576\) = 0 \(buffering\)/);
        for (const call of [/openat\(AT_FDCWD, 0x[0-9a-f]+, O_RDWR\|O_CREAT\|O_TRUNC, 0600\) = \d+/, /openat\(AT_FDCWD, 0x[0-9a-f]+, O_RDONLY\) = -ENOENT/,
          /writev\(\d+, 0x[0-9a-f]+, 3\) = 26/, /readv\(\d+, 0x[0-9a-f]+, 2\) = 26/, /fcntl\(\d+, F_SETLK, 0x[0-9a-f]+\) = 0/, /fcntl\(\d+, F_GETLK, 0x[0-9a-f]+\) = 0/,
          /fcntl\(\d+, F_SETFD, 0\) = 0/, /fsync\(\d+\) = 0/, /fdatasync\(\d+\) = 0/, /fchown\(\d+, \d+, \d+\) = 0/, /unlinkat\(AT_FDCWD, 0x[0-9a-f]+, 0\) = -ENOENT/,
          /ioctl\(\d+, TCGETS, 0x[0-9a-f]+\) = -ENOTTY/, /getcwd\(0x[0-9a-f]+, 512\) = \d+/, /getcwd\(0x[0-9a-f]+, 1\) = -ERANGE/,
          /rt_sigaction\(SIGUSR1, NULL, 0x[0-9a-f]+, 8\) = 0/, /rt_sigaction\(SIGWINCH, NULL, 0x[0-9a-f]+, 8\) = 0/]) {
          assert.match(dump, new RegExp(`^ *\\d+\\.\\d+ +\\d+ +\\d+  ${call.source} \\(buffered\\)$`, 'm'));
        }
        // The write to stdout stays traced, so its bytes are checked and echoed as before.
        assert.match(dump, /^ +\d+ +\d+ +\d+  write\(1, 0x[0-9a-f]+, \d+\) = \d+$/m);
        const json = trr(['dump', '--json', trace]).stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { kind: string; calls?: { buffered: boolean }[] });
        assert.ok(json.some((r) => r.kind === 'syscall-batch' && r.calls?.[0]?.buffered === true));
      } else {
        assert.equal(buffered.length, 0);
        assert.doesNotMatch(dump, /trr_syscall_buffer_init/);
      }
    });
  });
});

test('syscallbuf: a tampered buffered record makes replay stop with a divergence', async () => {
  await withOutputDir('syscallbuf-tampered', async (dir) => {
    const { tamperTrace } = await import('../support/tamper.js');
    const bin = buildProgram(spec);
    const trace = join(dir, 'trace');
    assert.equal(trr(['record', '-o', trace, bin, '1000'], { cwd: dir }).status, 0);
    const bad = join(dir, 'tampered');
    // Change the number of the first buffered write's fd argument.
    const changed = tamperTrace(trace, bad, (r) => {
      if (r.kind !== 'syscall-batch' || r.data.readUInt32LE(4) !== 1) return undefined;
      const data = Buffer.from(r.data);
      data.writeBigUInt64LE(data.readBigUInt64LE(8) + 1n, 8);
      return { ...r, data };
    });
    assert.ok(changed > 0);
    const r = trr(['replay', '-a', bad]);
    assert.equal(r.status, 3, r.stderr);
    assert.match(r.stderr, /diverged inside a buffered stretch, at buffered syscall 0 since its last event: argument 0 of write is 0x[0-9a-f]+ where the recording has 0x[0-9a-f]+/);

    // Change the path hash of a buffered openat: replay finds the program opening another path.
    const bad2 = join(dir, 'tampered-open');
    const changed2 = tamperTrace(trace, bad2, (r) => {
      if (r.kind !== 'syscall-batch') return undefined;
      const data = Buffer.from(r.data);
      for (let off = 0; off < data.length; off += data.readUInt32LE(off)) {
        if (data.readUInt32LE(off + 4) !== 257 /* openat */) continue;
        data.writeBigUInt64LE(data.readBigUInt64LE(off + 64) ^ 1n, off + 64);
        return { ...r, data };
      }
      return undefined;
    });
    assert.ok(changed2 > 0);
    const r2 = trr(['replay', '-a', bad2]);
    assert.equal(r2.status, 3, r2.stderr);
    assert.match(r2.stderr, /diverged inside a buffered stretch, at buffered syscall \d+ since its last event: the program's openat sent different data \(a different buffer or path\) than in the recording/);
  });
});

test('syscallbuf: a recording killed by SIGKILL in the middle of buffered stretches replays up to its last complete event', async () => {
  await withOutputDir('syscallbuf-sigkill', async (dir) => {
    const src = join(dir, 'lines.c');
    writeFileSync(
      src,
      '#include <stdio.h>\n#include <unistd.h>\n#include <fcntl.h>\n' +
        'int main(void) { int fd = open("scratch", O_CREAT|O_TRUNC|O_RDWR, 0600); char b[64];\n' +
        '  for (int i = 1; i <= 40; i++) { long s = 0; for (int k = 0; k < 5000; k++) { s += getppid(); pwrite(fd, "x", 1, k % 64); pread(fd, b, 8, 0); }\n' +
        '    printf("line %d %d\\n", i, s > 0); fflush(stdout); usleep(50000); }\n  return 0; }\n',
    );
    const bin = join(dir, 'lines');
    assert.equal(spawnSync('cc', ['-O1', '-o', bin, src]).status, 0);
    const trace = join(dir, 'trace');
    const child = spawn(process.execPath, [trrBin, 'record', '-o', trace, bin], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    // Kill it once a few lines are out (the machine may be slow), in the middle of the next stretch.
    for (let waited = 0; waited < 30_000 && !/line 3 /.test(out); waited += 100) await new Promise((resolve) => setTimeout(resolve, 100));
    await new Promise((resolve) => setTimeout(resolve, 150));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.on('close', resolve));
    assert.match(out, /^line 1 1\n/);
    const r = trr(['replay', '-a', trace]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /trace .* is incomplete/);
    assert.ok(r.stdout.length >= out.length - 'line 10 1\n'.length && r.stdout.length > 0, `replayed ${JSON.stringify(r.stdout)} recorded ${JSON.stringify(out)}`);
    assert.ok(out.startsWith(r.stdout), `replayed ${JSON.stringify(r.stdout)} recorded ${JSON.stringify(out)}`);
    assert.match(trr(['dump', trace]).stdout, /\(buffered\)/);
  });
});

test('syscallbuf: gdb reverse execution across a buffered stretch gives the recorded values', async () => {
  await withOutputDir('syscallbuf-gdb', (dir) => {
    const src = join(dir, 'acc.c');
    writeFileSync(
      src,
      '#include <stdio.h>\n#include <unistd.h>\n#include <fcntl.h>\n' +
        'volatile long acc; long seen[8];\n' +
        '__attribute__((noinline)) void mark(int i, long v) { seen[i] = v; }\n' +
        'int main(void) {\n' +
        '  int fd = open("data", O_CREAT|O_TRUNC|O_RDWR, 0600);\n' +
        '  for (int i = 0; i < 8; i++) {\n' +
        '    char c = (char)(\'a\' + i); pwrite(fd, &c, 1, i);\n' +
        '    for (int k = 0; k < 3000; k++) acc += getppid() > 0;\n' +
        '    char r = 0; pread(fd, &r, 1, i);\n' +
        '    mark(i, acc * 100 + r);\n' +
        '  }\n' +
        '  printf("%ld\\n", acc);\n  return 0;\n}\n',
    );
    const bin = join(dir, 'acc');
    assert.equal(spawnSync('cc', ['-O1', '-g', '-o', bin, src]).status, 0);
    const trace = join(dir, 'trace');
    const rec = trr(['record', '-o', trace, bin], { cwd: dir });
    assert.equal(rec.status, 0, rec.stderr);
    assert.equal(rec.stdout, '24000\n');
    const dump = trr(['dump', trace]).stdout;
    assert.ok(dump.split('\n').filter((l) => l.includes('getppid() =') && l.endsWith('(buffered)')).length >= 23000, 'the loop was not buffered');
    const script = join(dir, 'script.gdb');
    writeFileSync(
      script,
      ['break mark if i == 6', 'continue', 'print v', 'print acc', 'continue', 'delete 1', 'break mark if i == 3', 'reverse-continue', 'print i', 'print v', 'watch acc', 'reverse-continue', 'print acc', 'delete', 'continue'].join('\n'),
    );
    const env = { ...process.env, TRR_CHECKPOINT_INTERVAL_MS: '0' };
    const r = trr(['replay', trace, '--', '-nx', '-batch', '-x', script], { timeoutMs: 120_000, env });
    writeFileSync(join(dir, 'gdb.log'), `${r.stdout}\n--- stderr\n${r.stderr}`);
    assert.equal(r.status, 0, r.stderr);
    const out = r.stdout;
    assert.match(out, /^\$1 = 2100103$/m); // 7 stretches of 3000, then 'g'
    assert.match(out, /^\$2 = 21000$/m);
    assert.match(out, /^\$3 = 3$/m);
    assert.match(out, /^\$4 = 1200100$/m); // 4 * 3000 * 100 + 'd'
    // Watching acc backwards from the i == 3 mark stops at its last change (gdb shows it backwards: 12000 back to 11999).
    assert.match(out, /Old value = 12000\s+New value = 11999/);
    assert.match(out, /^\$5 = 11999$/m);
  });
});
