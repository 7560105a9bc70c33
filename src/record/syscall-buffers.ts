// The recorder's side of the syscall buffer (src/preload): a thread's buffer
// is announced by the library's traced init call; at each of the thread's
// stops that ends its run of user code, the recorder takes the records the
// library appended (and empties the buffer), and writes them into the trace
// as one `syscall-batch` record right before the thread's next record. The
// recorder also sets the header's control words: force a traced call (a
// signal is held for the thread), no buffered writes (a file is mapped
// shared), buffering off (the buffer is shared with another task, or the
// program installed a seccomp filter of its own). See docs/ARCHITECTURE.md.
import { fstatSync } from 'node:fs';
import type { AddressSpace } from '../task/task.js';
import { BUF_MAGIC, BUF_VERSION, HDR, HDR_SIZE, STUB_SYSCALL_END } from '../syscallbuf/layout.js';
import { UnsupportedError } from '../util/errors.js';

/** A thread's buffer: where it is, and the records taken from it not yet in the trace. */
export class ThreadBuffer {
  readonly taken: Buffer[] = [];
  takenCount = 0;
  constructor(
    readonly mem: AddressSpace,
    readonly addr: bigint,
  ) {}

  /** Whether the buffer can still be read (the program may have unmapped it). */
  private header(): Buffer | undefined {
    const h = this.mem.readPartial(this.addr, HDR_SIZE);
    return h.length === HDR_SIZE && h.readUInt32LE(HDR.magic) === BUF_MAGIC ? h : undefined;
  }

  /**
   * Takes the records appended since the last take and empties the buffer.
   * `strict`: the thread must not be inside a wrapper (a stop the library
   * cannot be in the middle of a record at), else recording stops.
   */
  take(tid: number, strict: boolean): void {
    const h = this.header();
    if (!h) return;
    const count = h.readUInt32LE(HDR.count);
    const force = h.readUInt32LE(HDR.forceTraced);
    if (strict && h.readUInt32LE(HDR.busy)) {
      throw new UnsupportedError(
        `thread ${tid} stopped in the middle of a buffered system call of trr's preload library (a fault inside the library); the syscall buffer cannot be recorded exactly there. Record the program with \`trr record -n\` (no syscall buffer).`,
      );
    }
    if (count === 0 && force === 0) return;
    if (count > 0) {
      const used = h.readUInt32LE(HDR.used);
      this.taken.push(this.mem.read(this.addr + BigInt(HDR_SIZE), used));
      this.takenCount += count;
    }
    const zero = Buffer.alloc(8);
    this.mem.write(this.addr + BigInt(HDR.count), zero); // count and used
    this.mem.write(this.addr + BigInt(HDR.forceTraced), zero.subarray(0, 4));
  }

  /** Whether the thread made buffered syscalls since its last record. */
  hasRecords(): boolean {
    const h = this.header();
    return this.takenCount > 0 || (h !== undefined && h.readUInt32LE(HDR.count) > 0);
  }

  /** The records taken so far, as one batch, and forgets them. */
  drain(): { count: number; data: Buffer } | undefined {
    if (this.takenCount === 0) return undefined;
    const out = { count: this.takenCount, data: Buffer.concat(this.taken) };
    this.taken.length = 0;
    this.takenCount = 0;
    return out;
  }

  setWord(offset: number, value: number): void {
    if (!this.header()) return;
    const b = Buffer.alloc(4);
    b.writeUInt32LE(value);
    this.mem.write(this.addr + BigInt(offset), b);
  }
}

/** trr's own stdout and stderr, when they are regular files: buffered writes must not go to them. */
function outputIds(): { dev: bigint[]; ino: bigint[] } {
  const dev = [0n, 0n];
  const ino = [0n, 0n];
  for (const fd of [1, 2]) {
    try {
      const st = fstatSync(fd, { bigint: true });
      if (st.isFile()) {
        dev[fd - 1] = st.dev;
        ino[fd - 1] = st.ino;
      }
    } catch {
      // closed: nothing to protect
    }
  }
  return { dev, ino };
}

/**
 * Answers the library's init call: the header trr writes into a new buffer
 * (size bytes at addr), or why buffering stays off for this thread.
 */
export function initBuffer(mem: AddressSpace, args: readonly bigint[], noWrites: boolean): ThreadBuffer | undefined {
  const [addr, size, ip, version] = args as [bigint, bigint, bigint, bigint];
  if (ip !== STUB_SYSCALL_END || version !== BUF_VERSION || size < BigInt(HDR_SIZE) + 4096n || size > 1n << 30n) return undefined;
  const h = Buffer.alloc(HDR_SIZE);
  h.writeUInt32LE(BUF_MAGIC, HDR.magic);
  h.writeUInt32LE(Number(BUF_VERSION), HDR.version);
  h.writeUInt32LE(Number(size) - HDR_SIZE, HDR.capacity);
  h.writeUInt32LE(noWrites ? 1 : 0, HDR.noWrites);
  const ids = outputIds();
  for (let i = 0; i < 2; i++) {
    h.writeBigUInt64LE(ids.dev[i]!, HDR.outDev + 8 * i);
    h.writeBigUInt64LE(ids.ino[i]!, HDR.outIno + 8 * i);
  }
  try {
    mem.write(addr, h);
  } catch {
    return undefined; // not the program's memory: leave buffering off
  }
  return new ThreadBuffer(mem, addr);
}
