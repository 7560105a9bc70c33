// gdb's Host I/O packets (vFile:*): gdb reads the debuggee's files through
// the server, which lets trr answer with the files of the *recording* — the
// trace's copies of the programs and libraries the debuggee mapped — and
// with the live replay's /proc files under the recorded pid. Only reading is
// allowed. Paths are translated by the caller (`resolve`); this module keeps
// the open files and speaks the protocol.
//
// gdb's client is not trusted with the host's files: a path is served only
// when, translated and with every symbolic link followed, it lies under one
// of the roots the caller allows (the trace's files and the live replay's
// /proc/PID), so /etc/shadow or /proc/PID/root/... are refused. Only regular
// files open, without blocking (O_NONBLOCK, then fstat: a FIFO or a device is
// closed again at once), and at most MAX_OPEN at a time.
import { closeSync, constants, fstatSync, openSync, readSync, readlinkSync, realpathSync } from 'node:fs';
import { basename, dirname, join, sep } from 'node:path';

/** gdb's File-I/O errno values (they differ from Linux's for a few); replies carry them in hex. */
const FILEIO_ERRNO: Readonly<Record<string, number>> = {
  EPERM: 1, ENOENT: 2, EINTR: 4, EBADF: 9, EACCES: 13, EFAULT: 14, EBUSY: 16, EEXIST: 17, ENODEV: 19, ENOTDIR: 20,
  EISDIR: 21, EINVAL: 22, ENFILE: 23, EMFILE: 24, EFBIG: 27, ENOSPC: 28, ESPIPE: 29, EROFS: 30, ENAMETOOLONG: 91,
};
const EUNKNOWN = 9999;
/** O_WRONLY | O_RDWR | O_APPEND | O_CREAT | O_TRUNC | O_EXCL in gdb's File-I/O flag values. */
const WRITE_FLAGS = 0x1 | 0x2 | 0x8 | 0x200 | 0x400 | 0x800;
/** Largest pread answered at once: escaped, it must fit the PacketSize the server announces. */
const MAX_READ = 0xfff0;
/** Files gdb may hold open at once. */
export const MAX_OPEN = 64;

const failCode = (code: string): string => `F-1,${(FILEIO_ERRNO[code] ?? EUNKNOWN).toString(16)}`;
const fail = (e: unknown): string => failCode((e as NodeJS.ErrnoException).code ?? '');
const errno = (code: string): Error => Object.assign(new Error(code), { code });
const text = (hex: string): string => Buffer.from(hex, 'hex').toString('utf8');

export class HostIo {
  private readonly open = new Map<number, number>(); // gdb's fd -> ours
  private nextFd = 1;

  /**
   * `resolve` translates a path gdb asks for into a host path; `roots`, when
   * given, are the only directories whose files may be served.
   */
  constructor(
    private readonly resolve: (path: string) => string,
    private readonly roots?: () => readonly string[],
  ) {}

  /** The host path to serve for `path`, when it is under an allowed root (`link`: the last component is not followed). */
  private permitted(path: string, link = false): string {
    if (path.length === 0 || path.includes('\0')) throw errno('ENOENT');
    const resolved = this.resolve(path);
    if (!this.roots) return resolved;
    if (this.underRoots(resolved, link)) return resolved;
    // A link on the host to a file the trace holds (e.g. /lib64/ld-linux-x86-64.so.2, recorded by its real path).
    let other: string | undefined;
    try {
      const real = realpathSync(path);
      if (real !== path) other = this.resolve(real);
    } catch {
      // not there on the host either
    }
    if (other !== undefined && this.underRoots(other, link)) return other;
    throw errno('EACCES');
  }

  private underRoots(resolved: string, link: boolean): boolean {
    let real: string;
    try {
      real = link ? join(realpathSync(dirname(resolved)), basename(resolved)) : realpathSync(resolved);
    } catch {
      return false;
    }
    return this.roots!().some((root) => {
      let r: string;
      try {
        r = realpathSync(root);
      } catch {
        return false;
      }
      return real === r || real.startsWith(r.endsWith(sep) ? r : r + sep);
    });
  }

  /** The reply to a `vFile:` packet (`F…`), or '' for an operation it does not know. */
  handle(packet: string): string {
    const [op, args = ''] = packet.slice('vFile:'.length).split(/:(.*)/s, 2) as [string, string?];
    const a = args.split(',');
    try {
      switch (op) {
        case 'setfs':
          return 'F0'; // every pid sees the same (translated) files
        case 'open': {
          const flags = parseInt(a[1] ?? '0', 16);
          if (!Number.isInteger(flags) || flags & WRITE_FLAGS) return failCode('EROFS');
          if (this.open.size >= MAX_OPEN) return failCode('EMFILE');
          const fd = openSync(this.permitted(text(a[0] ?? '')), constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
          try {
            const st = fstatSync(fd);
            if (!st.isFile()) throw errno(st.isDirectory() ? 'EISDIR' : 'ENODEV');
          } catch (e) {
            closeSync(fd);
            throw e;
          }
          const mine = this.nextFd++;
          this.open.set(mine, fd);
          return `F${mine.toString(16)}`;
        }
        case 'pread': {
          const fd = this.fd(a[0]);
          const len = parseInt(a[1] ?? '', 16);
          const pos = parseInt(a[2] ?? '', 16);
          if (!Number.isSafeInteger(len) || !Number.isSafeInteger(pos) || len < 0 || pos < 0) throw errno('EINVAL');
          const buf = Buffer.alloc(Math.min(len, MAX_READ));
          const n = readSync(fd, buf, 0, buf.length, pos);
          return `F${n.toString(16)};${buf.subarray(0, n).toString('latin1')}`;
        }
        case 'fstat':
          return `F40;${fioStat(this.fd(a[0])).toString('latin1')}`;
        case 'close': {
          closeSync(this.fd(a[0]));
          this.open.delete(parseInt(a[0]!, 16));
          return 'F0';
        }
        case 'readlink': {
          const target = Buffer.from(readlinkSync(this.permitted(text(a[0] ?? ''), true)));
          return `F${target.length.toString(16)};${target.toString('latin1')}`;
        }
        case 'pwrite':
        case 'unlink':
          return failCode('EROFS');
        default:
          return '';
      }
    } catch (e) {
      return fail(e);
    }
  }

  private fd(hex: string | undefined): number {
    const fd = this.open.get(parseInt(hex ?? '', 16));
    if (fd === undefined) throw Object.assign(new Error('bad fd'), { code: 'EBADF' });
    return fd;
  }

  /** Closes every file gdb left open. */
  close(): void {
    for (const fd of this.open.values()) closeSync(fd);
    this.open.clear();
  }
}

/** struct stat as gdb's File-I/O extension lays it out: big-endian, 64 bytes. */
function fioStat(fd: number): Buffer {
  const st = fstatSync(fd, { bigint: true });
  const b = Buffer.alloc(64);
  const u32 = (off: number, v: bigint) => b.writeUInt32BE(Number(v & 0xffffffffn), off);
  u32(0, st.dev);
  u32(4, st.ino);
  u32(8, st.mode);
  u32(12, st.nlink);
  u32(16, st.uid);
  u32(20, st.gid);
  u32(24, st.rdev);
  b.writeBigUInt64BE(st.size, 28);
  b.writeBigUInt64BE(st.blksize, 36);
  b.writeBigUInt64BE(st.blocks, 44);
  u32(52, st.atimeMs / 1000n);
  u32(56, st.mtimeMs / 1000n);
  u32(60, st.ctimeMs / 1000n);
  return b;
}
