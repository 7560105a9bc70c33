// The gdbserver against a hostile client (issue 9, part 4): random bytes,
// malformed, oversized and binary packets, a run-length count below 29, Host
// I/O on files outside the trace (/etc/shadow, a FIFO, a symbolic link out)
// and 20,000 opens. The server must answer every well-formed request
// properly afterwards, and its process must neither crash nor grow without
// bound.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, trr, withOutputDir } from '../support/harness.js';
import { packet, serve } from '../support/rsp-client.js';

const hex = (s: string) => Buffer.from(s).toString('hex');

/** A deterministic pseudo-random generator (xorshift32), so that a failure can be replayed. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

test('gdbserver fuzz: random, malformed, oversized and binary packets and hostile Host I/O leave it answering', async () => {
  await withOutputDir('gdbserver-fuzz', async (dir) => {
    const trace = join(dir, 'bank');
    assert.equal(trr(['record', '-o', trace, join(repoRoot, 'build', 'examples', 'bank')], { cwd: dir }).status, 134);
    // Things planted in the trace's own files directory: a FIFO and a link out of it.
    assert.equal(spawnSync('mkfifo', [join(trace, 'files', 'fifo')]).status, 0);
    symlinkSync('/etc/shadow', join(trace, 'files', 'shadow-link'));
    const { c, server, exited, stderr } = await serve(trace, { ack: false, timeoutMs: 20000 });
    const sock = c.sock;
    try {
      sock.on('error', () => {}); // the server closes after the detach
      const features = await c.request('qSupported:multiprocess+');
      const size = parseInt(/PacketSize=([0-9a-f]+)/.exec(features)?.[1] ?? '', 16);
      assert.ok(size >= 0x1000 && size <= 0x100000, features);
      assert.equal(await c.request('QStartNoAckMode'), 'OK');
      const stop = await c.request('?');
      assert.match(stop, /^T05thread:p[0-9a-f]+\.[0-9a-f]+;$/);
      const regs = await c.request('g');
      assert.match(regs, /^[0-9a-f]{100,}$/);

      // The known crasher: a run-length count below 29.
      sock.write('$?*\x01#6a', 'latin1');
      assert.match(await c.next(), /^E/);
      assert.match(await c.request('?'), /^T05/);
      // Run-length at the very start, an escape at the very end, a run-length bomb.
      sock.write(packet('*~') + packet('m0,1}') + packet('m' + '0*~'.repeat(40000)), 'latin1');
      for (let i = 0; i < 3; i++) assert.match(await c.next(), /^E/);

      // Oversized: a packet far over PacketSize with no end, then one with an end; neither is buffered.
      sock.write('$' + 'A'.repeat(size * 3), 'latin1');
      assert.match(await c.next(), /PacketSize/);
      sock.write('#00');
      const big = 'q' + 'B'.repeat(size * 2);
      sock.write(packet(big), 'latin1');
      assert.match(await c.next(), /PacketSize/);
      assert.equal(await c.request('qC').then((r) => r.slice(0, 2)), 'QC');

      // Random bytes (no '#', so no packet completes by chance), in bursts.
      const rand = rng(0x7272);
      for (let burst = 0; burst < 200; burst++) {
        const n = Math.floor(rand() * 4096);
        const b = Buffer.alloc(n);
        for (let i = 0; i < n; i++) b[i] = Math.floor(rand() * 256);
        for (let i = 0; i < n; i++) if (b[i] === 0x23) b[i] = 0x24; // '#' becomes '$'
        sock.write(b);
        if (burst % 20 === 0) await c.resync();
      }
      await c.resync();

      // Well-formed packets with random (binary) payloads: every one gets an answer, empty or error for nonsense.
      const letters = 'gmpHTqQvZzXxPMGAiI?!';
      let sent = 0;
      for (let i = 0; i < 2000; i++) {
        const n = 1 + Math.floor(rand() * 64);
        let s = letters[Math.floor(rand() * letters.length)]!;
        for (let j = 0; j < n; j++) s += String.fromCharCode(Math.floor(rand() * 256));
        // No requests that run, kill or detach (they are legitimate; here they would end the test's session).
        s = s.replace(/[#$}*]/g, 'x');
        if (/^(vCont|vRun|vKill|vAttach|qRcmd|vFile)/.test(s)) continue;
        sock.write(packet(s), 'latin1');
        sent++;
      }
      for (let i = 0; i < sent; i++) await c.next();
      // Binary payload through escapes, and a well-formed request with every byte value.
      let all = '';
      for (let i = 0; i < 256; i++) all += String.fromCharCode(i);
      sock.write(`$X1000,100:${all.replace(/[#$}*]/g, (ch) => '}' + String.fromCharCode(ch.charCodeAt(0) ^ 0x20))}#00`, 'latin1');
      await c.resync(); // bad checksum: dropped (no-ack mode), the server goes on

      // Host I/O: nothing outside the trace and the replay's /proc.
      const refused = /^F-1,(d|2)$/; // EACCES, ENOENT (File-I/O errno values in hex)
      assert.match(await c.request(`vFile:open:${hex('/etc/shadow')},0,0`), refused);
      assert.match(await c.request(`vFile:open:${hex('/etc/passwd')},0,0`), refused);
      assert.match(await c.request(`vFile:open:${hex(join(trace, 'files', 'shadow-link'))},0,0`), refused);
      assert.match(await c.request(`vFile:open:${hex(join(trace, 'files', 'fifo'))},0,0`), /^F-1,13$/); // ENODEV: a FIFO: not a regular file (and no blocking)
      assert.match(await c.request(`vFile:open:${hex(join(trace, 'files'))},0,0`), /^F-1,15$/); // EISDIR
      assert.match(await c.request(`vFile:open:${hex('/proc/self/root/etc/shadow')},0,0`), refused);
      assert.match(await c.request(`vFile:open:${hex('/proc/1/environ')},0,0`), refused);
      assert.match(await c.request(`vFile:readlink:${hex('/proc/self/exe')}`), refused);
      assert.match(await c.request(`vFile:open:${hex('/dev/zero')},0,0`), refused);
      assert.match(await c.request('vFile:open:zz,0,0'), /^F-1,/);
      assert.match(await c.request('vFile:pread:,,'), /^F-1,/);
      // The debuggee's own /proc entries and its executable are served.
      const pid = parseInt(/^T05thread:p([0-9a-f]+)\./.exec(stop)![1]!, 16);
      const maps = await c.request(`vFile:open:${hex(`/proc/${pid}/maps`)},0,0`);
      assert.match(maps, /^F[0-9a-f]+$/);
      assert.match(await c.request(`vFile:pread:${maps.slice(1)},1000,0`), /^F[0-9a-f]+;[0-9a-f]+-[0-9a-f]+ /);
      assert.equal(await c.request(`vFile:close:${maps.slice(1)}`), 'F0');
      assert.match(await c.request(`vFile:open:${hex(`/proc/${pid}/root/etc/shadow`)},0,0`), refused);
      const exe = (await c.request('qXfer:exec-file:read::0,fff')).slice(1);
      assert.ok(exe.startsWith(join(trace, 'files')), exe);

      // 20,000 opens, pipelined: at most 64 are open at once, the rest are refused with EMFILE.
      const batch = packet(`vFile:open:${hex(exe)},0,0`).repeat(20000);
      sock.write(batch, 'latin1');
      const fds: string[] = [];
      let emfile = 0;
      for (let i = 0; i < 20000; i++) {
        const r = await c.next();
        if (r === 'F-1,18') emfile++; // EMFILE (24)
        else {
          assert.match(r, /^F[0-9a-f]+$/);
          fds.push(r.slice(1));
        }
      }
      assert.equal(fds.length, 64);
      assert.equal(emfile, 20000 - 64);
      for (const fd of fds) assert.equal(await c.request(`vFile:close:${fd}`), 'F0');
      const fd = await c.request(`vFile:open:${hex(exe)},0,0`);
      assert.match(fd, /^F[0-9a-f]+$/);
      assert.equal(await c.request(`vFile:pread:${fd.slice(1)},4,0`), 'F4;\x7fELF');

      // And it still debugs: the same stop, registers and memory, a breakpoint, a continue, reverse.
      assert.equal(await c.request('?'), stop);
      assert.equal(await c.request('g'), regs);
      assert.match(await c.request('qRcmd,' + hex('when')), /^[0-9a-f]+$/);
      assert.match(await c.request('vCont;c'), /^T06/); // SIGABRT
      assert.match(await c.request('bc'), /^T05replaylog:begin;/);
      assert.equal(await c.request('D;1'), 'OK');
      assert.equal(await exited, 0, stderr());
    } finally {
      server.kill();
    }
  });
});
