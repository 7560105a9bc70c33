// Small helpers of ReplaySession: number formatting, the echo of the
// program's output, and how a record is named in messages.
import { writeSync } from 'node:fs';
import { signalName, syscallName } from '../syscalls/names.js';
import type { TraceRecord } from '../trace/format.js';

export function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return b;
}

export function fmt(v: bigint): string {
  return v < 0n && v > -4096n ? `-errno ${-v}` : `0x${v.toString(16)}`;
}

/**
 * Echoes the program's output; false once the reader is gone (EPIPE): the
 * replay goes on, as the recording did, without anyone to show it to.
 */
export function writeAll(fd: number, data: Buffer): boolean {
  let off = 0;
  while (off < data.length) {
    try {
      off += writeSync(fd, data, off);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EPIPE') return false;
      if (code !== 'EAGAIN') throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5); // a non-blocking stdout that is full
    }
  }
  return true;
}

export function describe(r: TraceRecord): string {
  switch (r.kind) {
    case 'syscall':
    case 'syscall-entry':
    case 'syscall-exit':
      return `${r.kind} ${syscallName(r.nr)} of thread ${r.tid}`;
    case 'signal':
      return `signal ${signalName(r.signo)} to thread ${r.tid}`;
    default:
      return `${r.kind} of thread ${r.tid}`;
  }
}
