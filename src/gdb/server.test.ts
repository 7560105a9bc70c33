import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gdbSignal } from './server.js';
import { MAX_PACKET, checksum, decodeBody, frame, PacketReader } from './rsp.js';

test('stop replies use gdb signal numbers', () => {
  assert.equal(gdbSignal(11), 11); // SIGSEGV
  assert.equal(gdbSignal(6), 6); // SIGABRT
  assert.equal(gdbSignal(7), 10); // SIGBUS
  assert.equal(gdbSignal(10), 30); // SIGUSR1
  assert.equal(gdbSignal(17), 20); // SIGCHLD
  assert.equal(gdbSignal(34), 46); // SIGRTMIN (glibc) = GDB_SIGNAL_REALTIME_34
});

test('packet framing: checksums, escapes, run-length, interrupts, nacks', () => {
  assert.equal(frame('OK'), '$OK#9a');
  assert.equal(frame('a#b'), `$a}\x03b#${checksum('a}\x03b')}`);
  const sent: string[] = [];
  const r = new PacketReader((s) => sent.push(s));
  const packets = r.feed(Buffer.from(`+$qC#b4\x03$m0,4*"#${checksum('m0,4*"')}$bad#00`));
  assert.deepEqual(packets, [
    { kind: 'packet', payload: 'qC' },
    { kind: 'interrupt' },
    { kind: 'packet', payload: 'm0,444444' }, // '*' then '"' (34 - 29 = 5): the '4' and five more
  ]);
  assert.deepEqual(sent, ['+', '+', '-']);
  // A packet split across reads.
  assert.deepEqual(r.feed(Buffer.from('$g#6')), []);
  assert.deepEqual(r.feed(Buffer.from('7')), [{ kind: 'packet', payload: 'g' }]);
});

test('packet framing is bounded: malformed run-length and oversized packets are answered with errors, never thrown or buffered', () => {
  const r = new PacketReader(() => {});
  r.ackMode = false;
  const [crasher] = r.feed(Buffer.from('$?*\x01#6a', 'latin1')); // a run-length count below 29
  assert.equal(crasher?.kind, 'malformed');
  assert.deepEqual(r.feed(Buffer.from(`$*~#${checksum('*~')}$ab}#${checksum('ab}')}`)).map((m) => m.kind), ['malformed', 'malformed']);
  // No '#' in sight: dropped once it passes the limit, and so is the rest up to its end.
  const long = r.feed(Buffer.from('$' + 'x'.repeat(MAX_PACKET + 10)));
  assert.equal(long.length, 1);
  assert.match((long[0] as { reply: string }).reply, /PacketSize/);
  assert.deepEqual(r.feed(Buffer.from('y'.repeat(1000) + '#00$qC#b4')), [{ kind: 'packet', payload: 'qC' }]);
  // A run-length bomb stays within MAX_DECODED.
  const bomb = 'm0' + '0*~'.repeat(MAX_PACKET / 3 - 1);
  assert.equal(r.feed(Buffer.from(`$${bomb}#${checksum(bomb)}`))[0]?.kind, 'malformed');
  assert.deepEqual(decodeBody('a*#'), { payload: 'a'.repeat(7) });
});
