// What an ioctl request writes to user memory. New-style request numbers
// carry a direction and a size (_IOR/_IOWR: the kernel writes `size` bytes
// at the argument); old-style ones (terminals 'T', sockets 0x89, consoles,
// block devices, ...) carry neither, and a few new-style ones lie (TUNSETIFF
// is _IOW but writes the interface name back, FS_IOC_GETFLAGS says 8 bytes
// but writes an int). Those are listed here with the sizes the kernel copies
// out on x86-64 (checked with sizeof on this machine). A request trr does not
// know is refused: replay could not give the program the same memory.
import type { AddressSpace } from '../task/task.js';

export type Range = readonly [addr: bigint, len: number];

const IFREQ = 40; // struct ifreq
const TERMIOS = 36; // the kernel's struct termios (TCGETS, TIOCGLCKTRMIOS)
const TERMIO = 18; // struct termio (TCGETA)

/** Requests whose output is `size` bytes at the argument (0: the kernel writes nothing there). */
const FIXED: ReadonlyMap<number, number> = new Map([
  // terminals (asm-generic/ioctls.h)
  [0x5401, TERMIOS], // TCGETS
  [0x5405, TERMIO], // TCGETA
  [0x540f, 4], // TIOCGPGRP
  [0x5411, 4], // TIOCOUTQ / SIOCOUTQ
  [0x5413, 8], // TIOCGWINSZ
  [0x5415, 4], // TIOCMGET
  [0x5419, 4], // TIOCGSOFTCAR
  [0x541b, 4], // FIONREAD / TIOCINQ / SIOCINQ
  [0x541c, 1], // TIOCLINUX: the subcommands that answer write the first byte
  [0x541e, 72], // TIOCGSERIAL: struct serial_struct
  [0x5424, 4], // TIOCGETD
  [0x5429, 4], // TIOCGSID
  [0x542e, 32], // TIOCGRS485: struct serial_rs485
  [0x542f, 32], // TIOCSRS485 writes back the configuration it applied
  [0x5456, TERMIOS], // TIOCGLCKTRMIOS
  [0x5459, 4], // TIOCSERGETLSR
  [0x545d, 80], // TIOCGICOUNT: struct serial_icounter_struct
  [0x5460, 8], // FIOQSIZE: loff_t
  ...[0x5402, 0x5403, 0x5404, 0x5406, 0x5407, 0x5408, 0x5409, 0x540a, 0x540b, 0x540c, 0x540d, 0x540e, 0x5410, 0x5412, 0x5414, 0x5416, 0x5417, 0x5418, 0x541a, 0x541d, 0x541f, 0x5420, 0x5421, 0x5422, 0x5423, 0x5425, 0x5427, 0x5428, 0x5437, 0x5441, 0x5450, 0x5451, 0x5452, 0x5453, 0x5457].map((r) => [r, 0] as const),
  // TCSETS/W/F, TCSETA/W/F, TCSBRK, TCXONC, TCFLSH, TIOCEXCL, TIOCNXCL, TIOCSCTTY, TIOCSPGRP, TIOCSTI, TIOCSWINSZ,
  // TIOCMBIS/MBIC/MSET, TIOCSSOFTCAR, TIOCCONS, TIOCSSERIAL, TIOCPKT, FIONBIO, TIOCNOTTY, TIOCSETD, TCSBRKP,
  // TIOCSBRK, TIOCCBRK, TIOCVHANGUP, TIOCGPTPEER (returns an fd), FIONCLEX, FIOCLEX, FIOASYNC, TIOCSERCONFIG, TIOCSLCKTRMIOS
  // sockets (linux/sockios.h): the SIOCGIF* requests write a struct ifreq back
  [0x8903, 4], // FIOGETOWN
  [0x8904, 4], // SIOCGPGRP
  [0x8905, 4], // SIOCATMARK
  [0x8906, 16], // SIOCGSTAMP_OLD: struct timeval
  [0x8907, 16], // SIOCGSTAMPNS_OLD: struct timespec
  ...[0x8910, 0x8913, 0x8915, 0x8917, 0x8919, 0x891b, 0x891d, 0x891f, 0x8921, 0x8925, 0x8927, 0x8929, 0x8933, 0x8935, 0x8938, 0x8942, 0x8947, 0x8948, 0x8970].map((r) => [r, IFREQ] as const),
  // SIOCGIFNAME, FLAGS, ADDR, DSTADDR, BRDADDR, NETMASK, METRIC, MEM, MTU, ENCAP, HWADDR, SLAVE, INDEX, PFLAGS, COUNT, TXQLEN, SIOCGMIIPHY, SIOCGMIIREG, SIOCGIFMAP
  [0x894b, 4], // SIOCOUTQNSD
  [0x8954, 68], // SIOCGARP: struct arpreq
  [0x8961, 68], // SIOCGRARP
  [0x8b01, 32], // SIOCGIWNAME: struct iwreq
  ...[0x8901, 0x8902, 0x890b, 0x890c, 0x8911, 0x8914, 0x8916, 0x8918, 0x891a, 0x891c, 0x891e, 0x8920, 0x8922, 0x8923, 0x8924, 0x8926, 0x8930, 0x8931, 0x8932, 0x8934, 0x8936, 0x8937, 0x8943, 0x8949, 0x894c, 0x8953, 0x8955, 0x8960, 0x8962, 0x8971, 0x89a0, 0x89a1, 0x89a2, 0x89a3].map((r) => [r, 0] as const),
  // FIOSETOWN, SIOCSPGRP, SIOCADDRT, SIOCDELRT, SIOCSIFLINK, SIOCSIF{FLAGS,ADDR,DSTADDR,BRDADDR,NETMASK,METRIC,MEM,MTU,NAME,HWADDR,ENCAP,SLAVE},
  // SIOCADDMULTI, SIOCDELMULTI, SIOCSIFPFLAGS, SIOCDIFADDR, SIOCSIFHWBROADCAST, SIOCSIFTXQLEN, SIOCSMIIREG, SIOCGSKNS (returns an fd),
  // SIOCDARP, SIOCSARP, SIOCDRARP, SIOCSRARP, SIOCSIFMAP, SIOCBRADDBR, SIOCBRDELBR, SIOCBRADDIF, SIOCBRDELIF
  // consoles (linux/kd.h, linux/vt.h)
  [0x4b31, 1], // KDGETLED
  [0x4b33, 1], // KDGKBTYPE
  [0x4b3b, 4], // KDGETMODE
  [0x4b40, 256], // GIO_SCRNMAP
  [0x4b44, 4], // KDGKBMODE
  [0x4b46, 4], // KDGKBENT: struct kbentry
  [0x4b48, 513], // KDGKBSENT: struct kbsentry
  [0x4b4a, 772], // KDGKBDIACR: struct kbdiacrs
  [0x4b4c, 8], // KDGETKEYCODE: struct kbkeycode
  [0x4b60, 8192], // GIO_FONT
  [0x4b62, 4], // KDGKBMETA
  [0x4b64, 1], // KDGKBLED
  [0x4b69, 512], // GIO_UNISCRNMAP
  [0x4b70, 48], // GIO_CMAP
  [0x4bfa, 3076], // KDGKBDIACRUC: struct kbdiacrsuc
  ...[0x4b2f, 0x4b30, 0x4b32, 0x4b3a, 0x4b41, 0x4b45, 0x4b47, 0x4b49, 0x4b4b, 0x4b4d, 0x4b4e, 0x4b61, 0x4b63, 0x4b65, 0x4b6a, 0x4b71].map((r) => [r, 0] as const),
  // KIOCSOUND, KDMKTONE, KDSETLED, KDSETMODE, PIO_SCRNMAP, KDSKBMODE, KDSKBENT, KDSKBSENT, KDSKBDIACR, KDSETKEYCODE, KDSIGACCEPT,
  // PIO_FONT, KDSKBMETA, KDSKBLED, PIO_UNISCRNMAP, PIO_CMAP
  [0x5600, 4], // VT_OPENQRY
  [0x5601, 8], // VT_GETMODE: struct vt_mode
  [0x5603, 6], // VT_GETSTATE: struct vt_stat
  [0x560d, 2], // VT_GETHIFONTMASK
  ...[0x5602, 0x5604, 0x5605, 0x5606, 0x5608, 0x5609, 0x560a, 0x560b, 0x560c, 0x560f].map((r) => [r, 0] as const),
  // VT_SETMODE, VT_SENDSIG, VT_RELDISP, VT_ACTIVATE, VT_DISALLOCATE, VT_RESIZE, VT_RESIZEX, VT_LOCKSWITCH, VT_UNLOCKSWITCH, VT_SETACTIVATE
  // frame buffers (linux/fb.h)
  [0x4600, 160], // FBIOGET_VSCREENINFO: struct fb_var_screeninfo
  [0x4601, 160], // FBIOPUT_VSCREENINFO writes back the mode it set
  [0x4602, 80], // FBIOGET_FSCREENINFO: struct fb_fix_screeninfo
  [0x460f, 8], // FBIOGET_CON2FBMAP
  ...[0x4605, 0x4606, 0x4610, 0x4611].map((r) => [r, 0] as const), // FBIOPUTCMAP, FBIOPAN_DISPLAY, FBIOPUT_CON2FBMAP, FBIOBLANK
  // block devices (linux/fs.h, linux/hdreg.h, linux/loop.h, linux/cdrom.h, scsi/sg.h)
  [0x0301, 16], // HDIO_GETGEO: struct hd_geometry
  [0x125e, 4], // BLKROGET
  [0x1260, 8], // BLKGETSIZE
  [0x1263, 8], // BLKRAGET
  [0x1265, 8], // BLKFRAGET
  [0x1267, 2], // BLKSECTGET
  [0x1268, 4], // BLKSSZGET
  [0x1278, 4], // BLKIOMIN
  [0x1279, 4], // BLKIOOPT
  [0x127a, 4], // BLKALIGNOFF
  [0x127b, 4], // BLKPBSZGET
  [0x127c, 4], // BLKDISCARDZEROES
  [0x127e, 2], // BLKROTATIONAL
  ...[0x125d, 0x125f, 0x1261, 0x1262, 0x1264, 0x1266, 0x1277, 0x127d, 0x127f].map((r) => [r, 0] as const),
  // BLKROSET, BLKRRPART, BLKFLSBUF, BLKRASET, BLKFRASET, BLKSECTSET, BLKDISCARD, BLKSECDISCARD, BLKZEROOUT
  [0x4c03, 168], // LOOP_GET_STATUS: struct loop_info
  [0x4c05, 232], // LOOP_GET_STATUS64: struct loop_info64
  ...[0x4c00, 0x4c01, 0x4c02, 0x4c04, 0x4c06, 0x4c07, 0x4c08, 0x4c09, 0x4c0a, 0x4c80, 0x4c81, 0x4c82].map((r) => [r, 0] as const),
  // LOOP_SET_FD, CLR_FD, SET_STATUS, SET_STATUS64, CHANGE_FD, SET_CAPACITY, SET_DIRECT_IO, SET_BLOCK_SIZE, CONFIGURE, LOOP_CTL_ADD/REMOVE/GET_FREE
  [0x5305, 2], // CDROMREADTOCHDR: struct cdrom_tochdr
  [0x5306, 12], // CDROMREADTOCENTRY: struct cdrom_tocentry
  [0x2203, 4], // SG_EMULATED_HOST
  [0x2272, 4], // SG_GET_RESERVED_SIZE
  [0x227f, 4], // SG_GET_SG_TABLESIZE
  [0x2282, 4], // SG_GET_VERSION_NUM
  ...[0x2201, 0x2202, 0x2275].map((r) => [r, 0] as const), // SG_SET_TIMEOUT, SG_GET_TIMEOUT (returns it), SG_SET_RESERVED_SIZE
  // new-style numbers whose size is not what the kernel writes
  [0x400454ca, IFREQ], // TUNSETIFF (_IOW) writes the interface name back
  [0x800454d2, IFREQ], // TUNGETIFF (_IOR, size 4) writes a struct ifreq
  [0x80086601, 4], // FS_IOC_GETFLAGS (_IOR long) writes an int
  [0x80087601, 4], // FS_IOC_GETVERSION (_IOR long) writes an int
]);

/** Request types ('T', 0x89, ...) whose numbers are old-style: an _IO number there says nothing about its data. */
const OLD_STYLE_TYPES = new Set([0x02, 0x03, 0x12, 0x22, 0x46, 0x4b, 0x4c, 0x53, 0x54, 0x56, 0x89, 0x8b]);

/** Requests whose output depends on what the argument points to. */
const VARIABLE: ReadonlyMap<number, (mem: AddressSpace, arg: bigint) => Range[]> = new Map([
  // SIOCGIFCONF: struct ifconf { int ifc_len; char *ifc_buf; }: the length, and ifc_len bytes of ifreqs (none when ifc_buf is NULL).
  [0x8912, (mem: AddressSpace, arg: bigint): Range[] => {
    const conf = mem.read(arg, 16);
    const buf = conf.readBigUInt64LE(8);
    const len = conf.readInt32LE(0);
    return buf && len > 0 ? [[arg, 16], [buf, len]] : [[arg, 16]];
  }],
  // SIOCGHWTSTAMP, SIOCSHWTSTAMP: struct hwtstamp_config (12 bytes) at ifr_data, the pointer in the ifreq.
  ...[0x89b0, 0x89b1].map((r) => [r, (mem: AddressSpace, arg: bigint): Range[] => [[mem.readU64(arg + 16n), 12]]] as const),
  // SIOCGIFBR, SIOCSIFBR: the old bridge calls take unsigned long args[3]; BRCTL_GET_BRIDGES (1)
  // copies up to args[2] interface indices (ints, at most 2048) to args[1].
  ...[0x8940, 0x8941].map((r) => [r, (mem: AddressSpace, arg: bigint): Range[] => {
    const args = mem.read(arg, 24);
    return args.readBigUInt64LE(0) === 1n ? [[args.readBigUInt64LE(8), 4 * Math.min(Number(args.readBigUInt64LE(16)), 2048)]] : [];
  }] as const),
  // FS_IOC_FIEMAP: struct fiemap (32 bytes) and its fm_mapped_extents struct fiemap_extent (56 bytes each).
  [0xc020660b, (mem: AddressSpace, arg: bigint): Range[] => [[arg, 32 + Math.min(mem.readU32(arg + 20n), mem.readU32(arg + 24n)) * 56]]],
]);

/** Output size of an ioctl with a fixed-size output, 0 when it writes nothing, undefined when trr does not know it (or it is variable). */
export function ioctlOutputSize(req: number): number | undefined {
  const fixed = FIXED.get(req);
  if (fixed !== undefined) return fixed;
  if (VARIABLE.has(req)) return undefined;
  const dir = req >>> 30;
  const size = (req >>> 16) & 0x3fff;
  if (dir === 0) return OLD_STYLE_TYPES.has((req >>> 8) & 0xff) ? undefined : 0; // _IO: no data
  if (dir & 2) return size; // _IOR/_IOWR: kernel writes `size` bytes
  return 0; // _IOW: kernel only reads
}

/** Whether trr knows what request `req` writes. */
export function ioctlKnown(req: number): boolean {
  return VARIABLE.has(req) || ioctlOutputSize(req) !== undefined;
}

/** The memory an ioctl that succeeded wrote (the request must be known). */
export function ioctlOutputs(mem: AddressSpace, req: number, arg: bigint): Range[] {
  if (!arg) return [];
  const variable = VARIABLE.get(req);
  if (variable) return variable(mem, arg).filter(([a, l]) => a !== 0n && l > 0);
  const size = ioctlOutputSize(req);
  return size ? [[arg, size]] : [];
}
