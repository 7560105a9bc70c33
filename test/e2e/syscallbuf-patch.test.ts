// The syscall buffer reached from libc's own syscall instructions
// (src/preload/trr_patch.c): stdio's writes, reads and lseeks, fopen's
// openat and fstat, fclose's close and readdir's getdents64 are buffered
// (recorded with and without the buffer: the traced counts, and exact
// replays), and gdb runs forwards and backwards across the patched calls.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildProgram, manifest, recordBothModes, run, saveLog, trr, withOutputDir } from '../support/harness.js';

const spec = manifest().find((p) => p.name === 'libc_internal')!;

/** Traced (not buffered) calls of the dump, by syscall name. */
function traced(dump: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of dump.split('\n')) {
    const m = /^ *\d+ +\d+ +\d+  ([a-z_0-9]+)\(/.exec(line);
    if (m && !line.endsWith('(buffered)')) counts.set(m[1], (counts.get(m[1]) ?? 0) + 1);
  }
  return counts;
}

test('syscallbuf-patch: libc\'s internal calls are buffered through its patched syscall instructions; both recordings replay exactly', async () => {
  await withOutputDir('syscallbuf-patch', (dir) => {
    const bin = buildProgram(spec);
    const native = run(bin, ['200'], { cwd: dir });
    assert.equal(native.status, 0, native.stderr);
    assert.match(native.stdout, /EXIT-SUCCESS/);
    const counts: Record<string, Map<string, number>> = {};
    recordBothModes(dir, bin, ['200'], native.stdout, (mode, dump) => {
      const tag = mode.flags.length ? 'off' : 'on';
      counts[tag] = traced(dump);
      if (tag === 'on') {
        // The 200 unbuffered fprintf writes (libc's __write) and ftell lseeks, buffered.
        const buffered = (re: RegExp) => dump.split('\n').filter((l) => l.endsWith('(buffered)') && re.test(l)).length;
        assert.ok(buffered(/  write\(3, 0x[0-9a-f]+, \d\) = \d/) >= 200, `only ${buffered(/  write\(3,/)} buffered writes`);
        assert.ok(buffered(/  lseek\(3, 0, SEEK_CUR\) = \d+/) >= 200);
        assert.ok(buffered(/  read\(3, 0x[0-9a-f]+, 16\) = \d+/) >= 40);
        assert.ok(buffered(/  getdents64\(3, 0x[0-9a-f]+, \d+\) = \d+/) >= 10);
        assert.ok(buffered(/  openat\(AT_FDCWD, 0x[0-9a-f]+, O_RDONLY\|O_NONBLOCK\|O_DIRECTORY\|O_CLOEXEC\) = 3/) >= 5);
        assert.ok(buffered(/  close\(3\) = 0/) >= 25);
      }
    });
    const on = counts.on!;
    const off = counts.off!;
    const sum = (m: Map<string, number>, names: string[]) => names.reduce((n, k) => n + (m.get(k) ?? 0), 0);
    // Everything the program itself does after start-up: with the buffer, only the dynamic loader's few remain.
    const calls = ['write', 'read', 'lseek', 'openat', 'close', 'newfstatat', 'fstat', 'getdents64', 'unlinkat', 'unlink'];
    assert.ok(sum(off, calls) >= 500, `-n traced only ${sum(off, calls)}`);
    assert.ok(sum(on, calls) * 10 < sum(off, calls), `with the buffer ${sum(on, calls)} traced calls, without ${sum(off, calls)}`);
    assert.equal(on.get('getdents64') ?? 0, 0);
    assert.equal(on.get('lseek') ?? 0, 0);
    assert.ok((on.get('write') ?? 0) <= 3, `${on.get('write')} traced writes`); // the program's stdout only
  });
});

test('syscallbuf-patch: gdb breakpoints, stepi and reverse execution across patched libc calls', async () => {
  await withOutputDir('syscallbuf-patch-gdb', (dir) => {
    const bin = buildProgram(spec);
    const trace = join(dir, 'trace');
    const rec = trr(['record', '-o', trace, bin, '12'], { cwd: dir });
    saveLog(dir, 'record', rec);
    assert.equal(rec.status, 0, rec.stderr);
    const script = join(dir, 'script.gdb');
    // Lines "0\n1\n4\n9\n16\n25\n36\n49\n": ftell after i == 7 is 20.
    writeFileSync(
      script,
      [
        'break note if i == 7', 'continue', 'print v', 'print i',
        // Back into the write of 49 (the jump to the stub, the stub, the buffer's record), and out again.
        'break write', 'reverse-continue', 'print $rdx', 'print *(char *)$rsi@2',
        'stepi 60', 'reverse-stepi 60', 'print $rdx', 'finish',
        'delete', 'break note if i == 9', 'continue', 'print v',
        // Backwards over the patched write and lseek of i == 9; 40 instructions on and back again.
        'delete', 'break note if i == 8', 'reverse-continue', 'print i', 'print v', 'stepi 40', 'reverse-stepi 10', 'reverse-stepi 30', 'print $pc == note',
        'delete', 'continue',
      ].join('\n'),
    );
    const env = { ...process.env, TRR_CHECKPOINT_INTERVAL_MS: '0' };
    const r = trr(['replay', trace, '--', '-nx', '-batch', '-x', script], { timeoutMs: 180_000, env });
    writeFileSync(join(dir, 'gdb.log'), `${r.stdout}\n--- stderr\n${r.stderr}`);
    assert.equal(r.status, 0, r.stderr);
    const out = r.stdout;
    assert.match(out, /^\$1 = 20$/m);
    assert.match(out, /^\$2 = 7$/m);
    assert.match(out, /^\$3 = 3$/m); // "49\n"
    assert.match(out, /^\$4 = "49"$/m);
    assert.match(out, /^\$5 = 3$/m); // back where it was after 60 steps forward and 60 back
    assert.match(out, /Value returned is \$6 = 3/);
    assert.match(out, /^\$7 = 26$/m); // "64\n81\n" more
    assert.match(out, /^\$8 = 8$/m);
    assert.match(out, /^\$9 = 23$/m);
    assert.match(out, /^\$10 = 1$/m);
    assert.match(out, /EXIT-SUCCESS\n+No more reverse-execution history\.\n.*_exit/); // the replay ran to its end
  });
});
