import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gdbSignal } from './server.js';
import { checksum, frame, PacketReader } from './rsp.js';

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
