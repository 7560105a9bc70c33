// Bytes that a syscall moves from one file to another inside the kernel
// (sendfile, copy_file_range, splice, tee) never pass through the program's
// memory, so replay cannot echo them from there. When such a call writes to
// trr's own stdout or stderr, the recorder captures the bytes it moved:
//   - from a regular file: read back after the call, at the offset the call
//     started from (the call does not change the source);
//   - from a pipe: peeked at the call's entry without consuming them (tee
//     into a private pipe); tee, which leaves its source as it was, is peeked
//     at its exit;
//   - from anything else: recording stops with an explanation, rather than a
//     replay that silently prints less than the recording did.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { peekPipe } from '../native/native.js';
import { fdPosition } from '../task/procfs.js';
import type { SyscallSemantics } from '../syscalls/semantics.js';
import { syscallName } from '../syscalls/names.js';
import type { AddressSpace } from '../task/task.js';
import { UnsupportedError } from '../util/errors.js';

export interface TransferSource {
  readonly path: string;
  readonly kind: 'file' | 'pipe' | 'other';
  /** Regular file: the offset the call reads from. */
  readonly offset: bigint;
  /** Pipe, for calls that consume it: its head at entry. */
  readonly peeked?: Buffer;
}

/** A pipe holds at most 1 MiB (the default limit of F_SETPIPE_SZ for users). */
const MAX_PEEK = 1n << 20n;

/** Notes where the bytes of a transfer come from, at the syscall's entry. */
export function transferSourceAtEntry(
  tid: number, mem: AddressSpace, args: readonly bigint[], transfer: NonNullable<SyscallSemantics['transfer']>,
): TransferSource {
  const fd = Number(BigInt.asIntN(32, args[transfer.inFd]!));
  const path = `/proc/${tid}/fd/${fd}`;
  let kind: TransferSource['kind'] = 'other';
  try {
    const h = openSync(path, 'r');
    try {
      const st = fstatSync(h);
      kind = st.isFile() ? 'file' : st.isFIFO() ? 'pipe' : 'other';
    } finally {
      closeSync(h);
    }
  } catch {
    return { path, kind: 'other', offset: 0n }; // a bad fd: the call fails, and nothing is sent
  }
  const offPtr = transfer.inOff === undefined ? 0n : args[transfer.inOff]!;
  const offset = kind === 'file' ? (offPtr ? mem.readU64(offPtr) : fdPosition(tid, fd)) : 0n;
  const len = args[transfer.lenArg]!;
  const peeked = kind === 'pipe' && transfer.consumes ? peekPipe(path, Number(len > MAX_PEEK ? MAX_PEEK : len)) : undefined;
  return { path, kind, offset, peeked };
}

/** The `count` bytes the call moved, at its exit. */
export function transferredBytes(src: TransferSource, nrv: number, count: number): Buffer {
  const what = `${syscallName(nrv)} sent ${count} bytes to trr's stdout or stderr`;
  if (src.kind === 'file') {
    const buf = Buffer.alloc(count);
    const h = openSync(src.path, 'r');
    let done = 0;
    try {
      while (done < count) {
        const n = readSync(h, buf, done, count - done, src.offset + BigInt(done));
        if (n <= 0) break;
        done += n;
      }
    } finally {
      closeSync(h);
    }
    if (done === count) return buf;
    throw new UnsupportedError(`${what}, but only ${done} of them could be read back from the source file (it shrank meanwhile); replay could not show them, so recording stops here.`);
  }
  if (src.kind === 'pipe') {
    const data = src.peeked ?? peekPipe(src.path, count);
    if (data.length >= count) return data.subarray(0, count);
    throw new UnsupportedError(`${what} from a pipe, but only ${data.length} of them were in the pipe when the call started (it waited for more); trr cannot capture such bytes yet, so recording stops here rather than record a replay that would print less.`);
  }
  throw new UnsupportedError(`${what} from a socket or device; trr cannot capture bytes moved from such a file inside the kernel, so recording stops here rather than record a replay that would print less.`);
}
