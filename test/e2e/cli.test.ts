// The command line as a new user meets it: help, bad arguments, the trace
// directory and latest-trace, exit statuses, environment and stdio
// pass-through, dump/ps/ls output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { buildProgram, manifest, run, trr, trrBin, withOutputDir } from '../support/harness.js';

const prog = (name: string) => buildProgram(manifest().find((p) => p.name === name)!);

test('help for trr and every command', () => {
  const top = trr(['--help']);
  assert.equal(top.status, 0);
  for (const cmd of ['record', 'replay', 'dump', 'ps', 'ls']) assert.match(top.stdout, new RegExp(`^\\s+${cmd}\\b`, 'm'));
  for (const cmd of ['record', 'replay', 'dump', 'ps', 'ls']) {
    const r = trr([cmd, '--help']);
    assert.equal(r.status, 0, cmd);
    assert.match(r.stdout, new RegExp(`Usage: trr ${cmd}`));
  }
});

test('bad command lines get a short message and exit status 2', () => {
  for (const args of [['frobnicate'], ['record'], ['dump', '--no-such-flag'], ['record', '--env', 'NOEQUALS', '/bin/true']]) {
    const r = trr(args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /error|--env takes NAME=VALUE/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
});

test('record passes args, environment, stdin and exit status through; trr speaks only on stderr', async () => {
  await withOutputDir('cli-passthrough', (dir) => {
    const env = { ...process.env, TRR_TRACE_DIR: join(dir, 'traces') };
    const rec = trr(['record', '--env', 'TRR_TEST_VAR=hello env', prog('exit_code'), 'a', 'b c'], { env, input: 'some input\n', cwd: dir });
    assert.equal(rec.status, 42, rec.stderr);
    assert.match(rec.stdout, /hello env/);
    assert.match(rec.stdout, /b c/);
    assert.doesNotMatch(rec.stdout, /trr/);
    // Default location and latest-trace.
    const latest = join(dir, 'traces', 'latest-trace');
    assert.ok(existsSync(latest));
    assert.match(readlinkSync(latest), /exit_code-0$/);
    const rep = trr(['replay', '-a'], { env });
    assert.equal(rep.status, 42, rep.stderr);
    assert.equal(rep.stdout, rec.stdout);
    // A second recording gets the next name.
    assert.equal(trr(['record', prog('static_hello')], { env, cwd: dir }).status, 0);
    const ls = trr(['ls'], { env });
    assert.equal(ls.status, 0);
    assert.match(ls.stdout, /^exit_code-0\t/m);
    assert.match(ls.stdout, /^static_hello-0\t/m);
    assert.equal(trr(['replay', '-a', 'exit_code-0'], { env }).status, 42);
  });
});

test('death by signal gives 128+N in record and replay', async () => {
  await withOutputDir('cli-signal-death', (dir) => {
    const trace = join(dir, 't');
    assert.equal(trr(['record', '-o', trace, prog('segv_death')], { cwd: dir }).status, 139);
    assert.equal(trr(['replay', '-a', trace]).status, 139);
    const ps = trr(['ps', trace]);
    assert.match(ps.stdout, /\t-11\t/);
  });
});

test('SIGTERM sent to trr is passed on to the program, and the trace still replays', async () => {
  await withOutputDir('cli-sigterm', async (dir) => {
    const trace = join(dir, 't');
    // A shell that handles SIGTERM and exits 3: its handler must run under trr as natively.
    const script = 'trap "echo got TERM; exit 3" TERM; echo ready; while :; do sleep 0.1; done';
    const child = spawn(process.execPath, [trrBin, 'record', '-o', trace, '/bin/sh', '-c', script], { cwd: dir });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (err += d));
    const status = await new Promise<number | null>((resolve) => {
      const poll = setInterval(() => {
        if (out.includes('ready')) {
          clearInterval(poll);
          child.kill('SIGTERM');
        }
      }, 50);
      child.on('exit', (code) => resolve(code));
    });
    assert.equal(status, 3, err);
    assert.match(out, /got TERM/);
    assert.match(err, /trr was sent SIGTERM by process \d+; it passed it on to the recorded program/);
    const replayed = trr(['replay', '-a', trace]);
    assert.equal(replayed.status, 3, replayed.stderr);
    assert.equal(replayed.stdout, out);
  });
});

test('replay whose output reader goes away (| head) finishes quietly with the recorded status', async () => {
  await withOutputDir('cli-replay-epipe', (dir) => {
    const trace = join(dir, 't');
    assert.equal(trr(['record', '-o', trace, 'seq', '1', '200000'], { cwd: dir }).status, 0);
    const r = run('bash', ['-c', `"${process.execPath}" "${trrBin}" replay -a "${trace}" | head -1; exit \${PIPESTATUS[0]}`]);
    assert.equal(r.stdout, '1\n');
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /internal error|EPIPE/);
  });
});

test('dump prints one line per event, and JSON with --json', async () => {
  await withOutputDir('cli-dump', (dir) => {
    const trace = join(dir, 't');
    assert.equal(trr(['record', '-o', trace, prog('static_hello')], { cwd: dir }).status, 0);
    const text = trr(['dump', trace]);
    assert.equal(text.status, 0);
    const [head, ...lines] = text.stdout.trim().split('\n');
    assert.match(head!, /^\s*EVENT\s+PID\s+TID\s+WHAT$/);
    assert.match(lines[0]!, /^\s*0\s+(\d+)\s+\1\s+execve\(".*static_hello"/);
    assert.match(text.stdout, /write\(.*\) = \d+/);
    assert.match(lines.at(-1)!, /end of recording \(exit 0\)/);
    const json = trr(['dump', '--json', trace]);
    const events = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as { index: number; pid: number; kind: string; tid: number; syscall?: string });
    assert.ok(events.every((e) => e.pid === events[0]!.pid));
    // A syscall-batch record is one event shown as one line per buffered call (numbered EVENT.N).
    assert.equal(events.length, lines.filter((l) => !/^\s*\d+\.\d+ /.test(l) || /^\s*\d+\.1 /.test(l)).length);
    assert.deepEqual(events.map((e) => e.index), events.map((_, i) => i));
    // getpid is a buffered call: in a syscall-batch record.
    assert.ok(events.some((e) => (e.kind === 'syscall' && e.syscall === 'getpid') || (e.kind === 'syscall-batch' && (e as { calls?: { syscall: string }[] }).calls?.some((c) => c.syscall === 'getpid'))));
  });
});
