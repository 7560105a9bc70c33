// gdb's Host I/O packets (vFile:*): gdb reads the debuggee's files through
// the server, which lets trr answer with the files of the *recording* — the
// trace's copies of the programs and libraries the debuggee mapped — and
// with the live replay's /proc files under the recorded pid. Only reading is
// allowed. Paths are translated by the caller (`resolve`); this module keeps
// the open files and speaks the protocol.
import { closeSync, fstatSync, openSync, readSync, readlinkSync } from 'node:fs';

/** gdb's File-I/O errno values (they differ from Linux's for a few). */
const FILEIO_ERRNO: Readonly<Record<string, number>> = {
  EPERM: 1, ENOENT: 2, EINTR: 4, EBADF: 9, EACCES: 13, EFAULT: 14, EBUSY: 16, EEXIST: 17, ENODEV: 19, ENOTDIR: 20,
  EISDIR: 21, EINVAL: 22, ENFILE: 23, EMFILE: 24, EFBIG: 27, ENOSPC: 28, ESPIPE: 29, EROFS: 30, ENAMETOOLONG: 91,
};
const EUNKNOWN = 9999;
/** O_WRONLY | O_RDWR | O_APPEND | O_CREAT | O_TRUNC | O_EXCL in gdb's File-I/O flag values. */
const WRITE_FLAGS = 0x1 | 0x2 | 0x8 | 0x200 | 0x400 | 0x800;
/** Largest pread answered at once: escaped, it must fit the PacketSize the server announces. */
const MAX_READ = 0xfff0;

const fail = (e: unknown): string => `F-1,${FILEIO_ERRNO[(e as NodeJS.ErrnoException).code ?? ''] ?? EUNKNOWN}`;
const text = (hex: string): string => Buffer.from(hex, 'hex').toString('utf8');

export class HostIo {
  private readonly open = new Map<number, number>(); // gdb's fd -> ours
  private nextFd = 1;

  constructor(private readonly resolve: (path: string) => string) {}

  /** The reply to a `vFile:` packet (`F…`), or '' for an operation it does not know. */
  handle(packet: string): string {
    const [op, args = ''] = packet.slice('vFile:'.length).split(/:(.*)/s, 2) as [string, string?];
    const a = args.split(',');
    try {
      switch (op) {
        case 'setfs':
          return 'F0'; // every pid sees the same (translated) files
        case 'open': {
          if (parseInt(a[1] ?? '0', 16) & WRITE_FLAGS) return `F-1,${FILEIO_ERRNO.EROFS}`;
          const fd = openSync(this.resolve(text(a[0]!)), 'r');
          const mine = this.nextFd++;
          this.open.set(mine, fd);
          return `F${mine.toString(16)}`;
        }
        case 'pread': {
          const fd = this.fd(a[0]!);
          const buf = Buffer.alloc(Math.min(parseInt(a[1]!, 16), MAX_READ));
          const n = readSync(fd, buf, 0, buf.length, parseInt(a[2]!, 16));
          return `F${n.toString(16)};${buf.subarray(0, n).toString('latin1')}`;
        }
        case 'fstat':
          return `F40;${fioStat(this.fd(a[0]!)).toString('latin1')}`;
        case 'close': {
          closeSync(this.fd(a[0]!));
          this.open.delete(parseInt(a[0]!, 16));
          return 'F0';
        }
        case 'readlink': {
          const target = Buffer.from(readlinkSync(this.resolve(text(a[0]!))));
          return `F${target.length.toString(16)};${target.toString('latin1')}`;
        }
        case 'pwrite':
        case 'unlink':
          return `F-1,${FILEIO_ERRNO.EROFS}`;
        default:
          return '';
      }
    } catch (e) {
      return fail(e);
    }
  }

  private fd(hex: string): number {
    const fd = this.open.get(parseInt(hex, 16));
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
