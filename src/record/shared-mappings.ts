// Files the recorded programs map and may change while mapped. A file that
// is mapped from a descriptor open for writing (MAP_SHARED or MAP_PRIVATE)
// becomes *tracked*: replay maps a private, emulated copy of it (one per
// replay, shared by all the replayed processes, as the real file is), and
// every later change the recorded programs make to it through a system call
// is recorded so that replay applies it to that copy: writes (with the file
// offset; the bytes are in the program's memory, or captured for in-kernel
// copies), and size changes (ftruncate, truncate, fallocate). Stores through
// shared mappings need nothing: in replay they go to the emulated copy's
// pages, as they went to the real file's. Changes made by processes outside
// the recording are not seen.
import { closeSync, fstatSync, openSync, readFileSync, statSync } from 'node:fs';
import { fdPosition, parseMaps, readMapsText } from '../task/procfs.js';
import type { Task } from '../task/task.js';
import { SYSCALL_NUMBERS } from '../syscalls/table.generated.js';
import { UnsupportedError } from '../util/errors.js';

const POSITIONED = new Set(['pwrite64', 'pwritev', 'pwritev2'].map((n) => SYSCALL_NUMBERS[n]!));
const O_ACCMODE = 3;

interface FileId {
  readonly key: string;
  readonly size: number;
}

function fileIdAt(path: string): FileId | undefined {
  try {
    const st = statSync(path);
    return st.isFile() ? { key: `${st.dev}:${st.ino}`, size: st.size } : undefined;
  } catch {
    return undefined;
  }
}

function fdPath(task: Task, fd: number): string {
  return `/proc/${task.tid}/fd/${fd}`;
}

function fdFlags(task: Task, fd: number): number {
  const m = /^flags:\s*([0-7]+)/m.exec(readFileSync(`/proc/${task.tid}/fdinfo/${fd}`, 'utf8'));
  return m ? parseInt(m[1]!, 8) : 0;
}

export class TrackedFiles {
  private readonly keys = new Set<string>();
  /** System V segments attached so far: key -> blob of their contents at the first attach. */
  private readonly segments = new Map<string, string>();

  /**
   * At a successful shmat: the segment becomes a tracked "file" (key
   * shm:ID), which replay emulates as it does a file mapped MAP_SHARED, so
   * every replayed process that attaches it shares its pages. Its contents at
   * the first attach are saved (`store`); the recorded processes' stores to
   * it replay by themselves. Returns what the record needs.
   */
  onShmat(task: Task, shmid: bigint, addr: bigint, store: (data: Buffer, name: string) => string): { key: string; blob: string; size: bigint } {
    const m = parseMaps(readMapsText(task.tid)).find((x) => x.start === addr);
    if (!m) throw new UnsupportedError(`shmat returned 0x${addr.toString(16)}, where process ${task.tgid} maps nothing; this cannot be recorded.`);
    const size = m.end - m.start;
    const key = `shm:${shmid}`;
    let blob = this.segments.get(key);
    if (blob === undefined) {
      blob = store(task.mem.read(addr, Number(size)), `SYSV-${shmid}`);
      this.segments.set(key, blob);
    }
    return { key, blob, size };
  }

  /** At a shmdt's entry: how much the segment attached at `addr` covers (0 when nothing is attached there). */
  shmSizeAt(task: Task, addr: bigint): bigint {
    const m = parseMaps(readMapsText(task.tid)).find((x) => x.start === addr && x.path.startsWith('/SYSV'));
    return m ? m.end - m.start : 0n;
  }

  /**
   * At a successful mmap of file descriptor `fd`: the tracked file's key when
   * replay must map the emulated copy (the file is tracked, or becomes
   * tracked now because the descriptor is open for writing).
   */
  onMmap(task: Task, fd: number): string | undefined {
    const id = fileIdAt(fdPath(task, fd));
    if (!id) return undefined;
    if (!this.keys.has(id.key)) {
      if ((fdFlags(task, fd) & O_ACCMODE) === 0) return undefined; // read-only: it cannot change through this process
      this.keys.add(id.key);
    }
    return id.key;
  }

  /** The tracked file behind `fd`, if it is one. */
  trackedFd(task: Task, fd: number): string | undefined {
    if (this.keys.size === 0 || fd < 0) return undefined;
    const id = fileIdAt(fdPath(task, fd));
    return id && this.keys.has(id.key) ? id.key : undefined;
  }

  /** The tracked file at `path` (resolved as the task sees it), if it is one. */
  trackedPath(task: Task, path: string): string | undefined {
    if (this.keys.size === 0) return undefined;
    const abs = path.startsWith('/') ? path : `/proc/${task.tid}/cwd/${path}`;
    const id = fileIdAt(abs);
    return id && this.keys.has(id.key) ? id.key : undefined;
  }

  /**
   * The file offset a successful write of `result` bytes to a tracked file
   * started at: the call's offset argument, or the descriptor's position now
   * less what the call wrote.
   */
  writeOffset(task: Task, nr: number, args: readonly bigint[], result: bigint, fd: number, offsetAfter?: bigint): bigint {
    if (POSITIONED.has(nr)) return args[3]!; // pwrite64's offset; pwritev's low half (files under 4 GiB)
    return (offsetAfter ?? fdPosition(task.tid, fd)) - result;
  }

  /** The size of a tracked file after a syscall changed it. */
  sizeOf(task: Task, fd: number | undefined, path?: string): bigint {
    let h: number | undefined;
    try {
      h = fd !== undefined ? openSync(fdPath(task, fd), 'r') : openSync(path!.startsWith('/') ? path! : `/proc/${task.tid}/cwd/${path}`, 'r');
      return BigInt(fstatSync(h).size);
    } catch (e) {
      throw new UnsupportedError(`cannot read the new size of a file the recorded program maps (${(e as Error).message}); replay could not reproduce it, so recording stops here.`);
    } finally {
      if (h !== undefined) closeSync(h);
    }
  }
}
