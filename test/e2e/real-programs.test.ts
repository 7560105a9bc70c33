// Real programs nobody here wrote — python3, git, sqlite3 and a shell
// pipeline — run natively, recorded (with the syscall buffer and without it)
// and replayed. Recorded and replayed
// output must be identical, and equal to the native run's wherever the
// program itself is deterministic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RECORD_MODES, programStderr, recordAndReplay, statusOf, trr, withOutputDir } from '../support/harness.js';

function check(r: ReturnType<typeof recordAndReplay>, sameAsNative: boolean): void {
  assert.equal(statusOf(r.recorded), statusOf(r.native), `record status\n${r.recorded.stderr}`);
  assert.equal(statusOf(r.replayed), statusOf(r.recorded), `replay status\n${r.replayed.stderr}`);
  assert.equal(r.replayed.stdout, r.recorded.stdout, 'replayed stdout differs from recorded');
  assert.equal(programStderr(r.replayed.stderr), programStderr(r.recorded.stderr), 'replayed stderr differs from recorded');
  if (sameAsNative) assert.equal(r.recorded.stdout, r.native.stdout, 'recorded stdout differs from native');
  assert.doesNotMatch(r.recorded.stderr + r.replayed.stderr, /internal error|diverged/);
}

for (const mode of RECORD_MODES) {
  test(`python3 with time, random, os.urandom, a subprocess and a file, ${mode.label}`, async () => {
    await withOutputDir(`real-python3-${mode.flags.length ? 'n' : 'buffered'}`, (dir) => {
      const script = join(dir, 'script.py');
      writeFileSync(
        script,
        [
          'import time, random, os, subprocess, tempfile, hashlib',
          't0 = time.time(); m0 = time.monotonic(); time.sleep(0.01)',
          'r = random.random(); b = os.urandom(16)',
          'out = subprocess.run(["echo", "from child"], capture_output=True, text=True).stdout.strip()',
          'with tempfile.NamedTemporaryFile("w+", delete=False, dir=".") as f:',
          '    f.write("data %d\\n" % 42); name = f.name',
          'print(open(name).read().strip(), out, time.time() >= t0, time.monotonic() > m0, 0 <= r < 1, len(b))',
          'print("varying:", r, b.hex(), time.time())',
          'os.unlink(name)',
        ].join('\n'),
      );
      const r = recordAndReplay(dir, '/usr/bin/python3', [script], { cwd: dir, recordFlags: mode.flags });
      check(r, false);
      assert.equal(r.recorded.stdout.split('\n')[0], 'data 42 from child True True True 16');
      assert.equal(r.native.stdout.split('\n')[0], r.recorded.stdout.split('\n')[0]);
      // The random and time values differ between runs, yet replay reproduces the recorded ones.
      assert.match(r.replayed.stdout, /^varying: /m);
    });
  });

  test(`git init, add, commit and log in a temporary repository, ${mode.label}`, async () => {
    await withOutputDir(`real-git-${mode.flags.length ? 'n' : 'buffered'}`, (dir) => {
      const repo = join(dir, 'repo');
      mkdirSync(repo);
      const script = [
        'set -e',
        'git init -q .',
        'git config user.email t@example.com; git config user.name T',
        'echo hello > a.txt; git add a.txt',
        'GIT_AUTHOR_DATE="2026-01-01T00:00:00Z" GIT_COMMITTER_DATE="2026-01-01T00:00:00Z" git commit -q -m first',
        'echo more >> a.txt',
        'GIT_AUTHOR_DATE="2026-01-02T00:00:00Z" GIT_COMMITTER_DATE="2026-01-02T00:00:00Z" git commit -q -am second',
        'git log --format="%H %s"',
        'git cat-file -p HEAD:a.txt',
      ].join('\n');
      writeFileSync(join(dir, 'git.sh'), script);
      const r = recordAndReplay(dir, '/bin/sh', [join(dir, 'git.sh')], { cwd: repo, env: { ...process.env, HOME: dir }, recordFlags: mode.flags });
      // Native ran first in the same directory; the recorded run builds on its repository, so compare replay to record only.
      check(r, false);
      assert.match(r.recorded.stdout, /^[0-9a-f]{40} second$/m);
      assert.match(r.recorded.stdout, /^hello\nmore$/m);
      const ps = trr(['ps', r.trace]);
      assert.equal(ps.status, 0);
      assert.match(ps.stdout, /^PID\tPPID\tEXIT\tCMD$/m);
      assert.match(ps.stdout, /\tgit commit -q -am second$/m);
    });
  });

  test(`sqlite3 creates a table, inserts rows and queries them, ${mode.label}`, async () => {
    await withOutputDir(`real-sqlite3-${mode.flags.length ? 'n' : 'buffered'}`, (dir) => {
      const sql = "create table t(a integer, b text); insert into t values (1,'x'),(2,'y'),(3,'z'); select count(*), sum(a) from t; select b from t order by a desc;";
      const native = recordAndReplay(dir, 'sqlite3', [':memory:', sql], { cwd: dir, recordFlags: mode.flags });
      check(native, true);
      assert.equal(native.recorded.stdout, '3|6\nz\ny\nx\n');
      // A second recording needs a directory of its own (-o refuses a non-empty one).
      const second = join(dir, 'file-db');
      mkdirSync(second);
      const file = recordAndReplay(second, 'sqlite3', [join(dir, 'db.sqlite'), "create table if not exists u(v); insert into u values (42); select count(*) from u;"], { cwd: dir, recordFlags: mode.flags });
      check(file, false);
    });
  });

  test(`sh -c with a pipeline of three commands, ${mode.label}`, async () => {
    await withOutputDir(`real-sh-pipeline-${mode.flags.length ? 'n' : 'buffered'}`, (dir) => {
      const r = recordAndReplay(dir, 'sh', ['-c', 'seq 1 3000 | grep 7 | wc -l'], { cwd: dir, recordFlags: mode.flags });
      check(r, true);
      assert.equal(r.recorded.stdout.trim(), '813');
    });
  });

  test(`make building a C program with cc (a tree of processes), ${mode.label}`, async () => {
    await withOutputDir(`real-make-${mode.flags.length ? 'n' : 'buffered'}`, (dir) => {
      writeFileSync(join(dir, 'hello.c'), '#include <stdio.h>\nint main(void) { puts("hello from make"); return 0; }\n');
      writeFileSync(join(dir, 'Makefile'), 'hello: hello.o\n\tcc -o hello hello.o\nhello.o: hello.c\n\tcc -c hello.c\n');
      const r = recordAndReplay(dir, 'sh', ['-c', 'rm -f hello hello.o && make && ./hello'], { cwd: dir, recordFlags: mode.flags });
      check(r, true);
      assert.match(r.recorded.stdout, /cc -c hello.c\ncc -o hello hello.o\nhello from make\n/);
      const ps = trr(['ps', r.trace]);
      assert.match(ps.stdout, /\/cc1 /);
      assert.match(ps.stdout, /\tas /);
    });
  });
}
