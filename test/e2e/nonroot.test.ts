// Recording and replaying work for an ordinary unprivileged user. As root,
// the test creates the user `trr-test` for the purpose and runs trr as that
// user; run as another user, it records as that user.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildProgram, manifest, run, trrBin } from '../support/harness.js';

const USER = 'trr-test';

function asUser(args: string[], cwd: string): ReturnType<typeof run> {
  const cmd = [process.execPath, trrBin, ...args];
  if (process.getuid!() !== 0) return run(cmd[0]!, cmd.slice(1), { cwd });
  return run('runuser', ['-u', USER, '--', 'env', `TRR_TRACE_DIR=${cwd}/traces`, ...cmd], { cwd });
}

test('an unprivileged user records and replays', () => {
  if (process.getuid!() === 0 && run('id', ['-u', USER]).status !== 0) {
    const r = run('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', USER]);
    assert.equal(r.status, 0, `useradd failed: ${r.stderr}`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'trr-nonroot-'));
  try {
    chmodSync(dir, 0o755);
    if (process.getuid!() === 0) {
      const uid = Number(run('id', ['-u', USER]).stdout.trim());
      const gid = Number(run('id', ['-g', USER]).stdout.trim());
      chownSync(dir, uid, gid);
    }
    const whoami = asUser(['record', '-o', join(dir, 'id-trace'), '/usr/bin/id', '-u'], dir);
    assert.equal(whoami.status, 0, whoami.stderr);
    assert.notEqual(whoami.stdout.trim(), '0', 'the recording ran as root');
    const threads = buildProgram(manifest().find((p) => p.name === 'threads')!);
    const rec = asUser(['record', '-o', join(dir, 'threads-trace'), threads], dir);
    assert.equal(rec.status, 0, rec.stderr);
    const rep = asUser(['replay', '-a', join(dir, 'threads-trace')], dir);
    assert.equal(rep.status, 0, rep.stderr);
    assert.equal(rep.stdout, rec.stdout);
    assert.match(rep.stdout, /EXIT-SUCCESS/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
