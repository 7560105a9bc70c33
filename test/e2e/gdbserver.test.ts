// trr's gdbserver spoken to directly over a socket: `trr replay -s PORT`
// serves on 127.0.0.1, prints the command that connects, answers malformed
// and unknown packets without dying, refuses a second connection, stops a
// long continue on gdb's Ctrl-C, and ends when the debugger detaches.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { repoRoot, trr, withOutputDir } from '../support/harness.js';
import { packet, serve } from '../support/rsp-client.js';

test('gdbserver over a raw socket: -s, bad packets, one connection only, detach', async () => {
  await withOutputDir('gdbserver-raw', async (dir) => {
    const trace = join(dir, 'bank');
    assert.equal(trr(['record', '-o', trace, join(repoRoot, 'build', 'examples', 'bank')], { cwd: dir }).status, 134);
    const { c, exited, stderr, port } = await serve(trace, { ack: true });
    assert.match(await c.request('qSupported:multiprocess+'), /ReverseContinue\+/);
    assert.match(await c.request('?'), /^T05thread:p[0-9a-f]+\.[0-9a-f]+;$/);
    assert.equal(await c.request('vMustReplyEmpty'), '');
    assert.equal(await c.request('qFrobnicate'), '');
    assert.equal(await c.request('mzz,qq'), 'E01');
    assert.match(await c.request('M1000,1:00'), /^E/); // unmapped, in the copy of the replay a write makes
    assert.match(await c.request('g'), /^[0-9a-f]+$/);
    // A second debugger is turned away; the first keeps working.
    const second = connect(port, '127.0.0.1');
    const closed = await new Promise<boolean>((resolve) => {
      second.on('close', () => resolve(true));
      second.on('error', () => resolve(true));
      setTimeout(() => resolve(false), 5000);
    });
    assert.ok(closed, 'the second connection was not closed');
    assert.match(await c.request('qRcmd,' + Buffer.from('when').toString('hex')), /^[0-9a-f]+$/);
    assert.equal(await c.request('D;1'), 'OK');
    assert.equal(await exited, 0, stderr());
  });
});

test('gdbserver: Ctrl-C (0x03) stops a long continue where the replay is', async () => {
  await withOutputDir('gdbserver-interrupt', async (dir) => {
    const src = join(dir, 'loop.c');
    writeFileSync(src, '#include <unistd.h>\nint main(void) { for (unsigned long i = 0; i < 600000000UL; i++) if (i % 20000 == 0) getppid(); return 0; }\n');
    const bin = join(dir, 'loop');
    assert.equal(spawnSync('cc', ['-O1', '-o', bin, src]).status, 0);
    const trace = join(dir, 'trace');
    // Without the syscall buffer, so that the 30000 getppid calls are as many events
    // (Ctrl-C is noticed between events, and a buffered stretch holds thousands of calls).
    assert.equal(trr(['record', '-n', '-o', trace, bin], { cwd: dir }).status, 0);
    const { c, exited, stderr } = await serve(trace, { ack: true });
    await c.request('qSupported:multiprocess+');
    const reply = c.request('vCont;c');
    await new Promise((r) => setTimeout(r, 500));
    c.sock.write('\x03');
    assert.match(await reply, /^T02thread:/);
    const when = Buffer.from(await c.request('qRcmd,' + Buffer.from('when').toString('hex')), 'hex').toString();
    const at = Number(/Current event: (\d+)/.exec(when)?.[1]);
    assert.ok(at > 1 && at < 29000, `stopped at event ${at}`);
    // A Ctrl-C that comes with the resume, in the same read, stops that resume (it is not lost behind the packet).
    c.sock.write(packet('vCont;c') + '\x03', 'latin1');
    assert.match(await c.next(), /^T02thread:/);
    // One that comes while nothing runs stops nothing: the next continue goes on from there to the end.
    c.sock.write('\x03');
    assert.match(await c.request('qC'), /^QC/);
    assert.match(await c.request('vCont;c'), /^T05replaylog:end;/);
    assert.equal(await c.request('D;1'), 'OK');
    assert.equal(await exited, 0, stderr());
  });
});

test('trr replay -g EVENT and -e start the session at an event or at the end', async () => {
  await withOutputDir('gdb-goto', (dir) => {
    const trace = join(dir, 'bank');
    assert.equal(trr(['record', '-o', trace, join(repoRoot, 'build', 'examples', 'bank')], { cwd: dir }).status, 134);
    const at = trr(['replay', '-g', '20', trace, '--', '-nx', '-batch', '-ex', 'monitor when']);
    assert.match(at.stdout + at.stderr, /Current event: 20/);
    const end = trr(['replay', '-e', trace, '--', '-nx', '-batch', '-ex', 'bt 5']);
    assert.match(end.stdout + end.stderr, /in main \(\) at .*bank\.c/);
    const bad = trr(['replay', '-g', '99999', trace]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /-g 99999: the trace has events 0 to \d+/);
  });
});

test('trr replay -p PID / -f PID debug one process of a recorded tree, and gdb follows its exec', async () => {
  await withOutputDir('gdb-process-tree', (dir) => {
    const trace = join(dir, 'tree');
    const bank = join(repoRoot, 'build', 'examples', 'bank');
    assert.equal(trr(['record', '-o', trace, 'sh', '-c', `echo start; ${bank}; echo end`], { cwd: dir }).status, 0);
    const ps = trr(['ps', trace]).stdout;
    const pid = /^(\d+)\t\d+\t-6\t.*bank$/m.exec(ps)?.[1];
    assert.ok(pid, ps);
    const p = trr(['replay', '-p', pid!, trace, '--', '-nx', '-batch', '-ex', 'break record_transfer', '-ex', 'continue', '-ex', 'bt 2', '-ex', 'info inferiors']);
    assert.match(p.stdout, /Breakpoint 1, record_transfer \(a=0x[0-9a-f]+ <accounts>, n=0, amount=-5\)/);
    assert.match(p.stdout, new RegExp(`process ${pid} .*files/\\d+-bank`));
    const f = trr(['replay', '-f', pid!, trace, '--', '-nx', '-batch', '-ex', 'info inferiors', '-ex', 'monitor when']);
    // The shell is a system file: the trace uses it in place (after checking it), gdb is given its path.
    assert.match(f.stdout + f.stderr, new RegExp(`process ${pid} .* /usr/bin/dash`));
    // From the fork, gdb is told of the exec: it loads the new program and its pending breakpoint resolves.
    const x = trr(['replay', '-f', pid!, trace, '--', '-nx', '-batch', '-ex', 'set breakpoint pending on', '-ex', 'break record_transfer', '-ex', 'continue', '-ex', 'info inferiors']);
    assert.match(x.stdout + x.stderr, new RegExp(`process ${pid} is executing new program: .*files/\\d+-bank`));
    assert.match(x.stdout, /Breakpoint 1, record_transfer \(a=0x[0-9a-f]+ <accounts>, n=0, amount=-5\)/);
    assert.match(x.stdout, new RegExp(`process ${pid} .*files/\\d+-bank`));
    const none = trr(['replay', '-p', '1', trace]);
    assert.equal(none.status, 2);
    assert.match(none.stderr, /the trace has no process 1 that execs \(see `trr ps`\)/);
  });
});
