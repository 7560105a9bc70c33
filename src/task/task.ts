// Task: one traced thread, as the tracer sees it. It reads and writes the
// thread's registers and its address space's memory, resumes it, and can make
// it run a syscall chosen by trr (remote syscalls, used to map trace files in
// replay and to patch the vDSO). It knows nothing of recording or replaying:
// sessions decide what to do with a task; the task only carries it out.
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { NT_X86_XSTATE, PTRACE, ptraceBuffer, ptraceGetRegset, ptraceSetRegset } from '../native/native.js';
import { Registers, USER_REGS_SIZE } from '../arch/registers.js';
import { TrrError } from '../util/errors.js';

/** One address space (a process, or threads sharing CLONE_VM), read through /proc/PID/mem. */
export class AddressSpace {
  private fd: number | undefined;
  /** Address of a `syscall` instruction trr placed in this address space (patched vDSO). */
  syscallInstruction: bigint | undefined;
  /**
   * Replay: descriptors the process holds open (O_CLOEXEC) on the files it
   * maps, by path and access mode, so that every mapping of a file comes from
   * one open file, as in a recording that mapped it through one descriptor
   * (the kernel merges adjacent mappings only of the same open file).
   */
  readonly mappedFileFds = new Map<string, bigint>();
  /** Threads that use this address space: /proc/PID/mem of any live one reaches it (the leader may be gone). */
  private readonly members = new Set<number>();
  constructor(private procPid: number) {
    this.members.add(procPid);
  }

  /** The process whose /proc/PID/mem this reads. */
  get pid(): number {
    return this.procPid;
  }

  /** Records that thread `tid` shares this address space. */
  addMember(tid: number): void {
    this.members.add(tid);
  }

  private memFd(): number {
    if (this.fd !== undefined) return this.fd;
    let failure: Error | undefined;
    for (const pid of [this.procPid, ...this.members]) {
      try {
        this.fd = openSync(`/proc/${pid}/mem`, 'r+');
        return this.fd;
      } catch (e) {
        failure ??= e as Error;
      }
    }
    throw new TrrError(`cannot open the memory of process ${this.pid} or any of its threads: ${failure?.message}`);
  }

  /** After execve the old file refers to the dead mm: reopen through `pid`. */
  reset(pid: number): void {
    this.close();
    this.procPid = pid;
    this.members.clear();
    this.members.add(pid);
    this.syscallInstruction = undefined;
    this.mappedFileFds.clear(); // closed by the exec (O_CLOEXEC)
  }

  /** A fork's copy of this address space: what trr placed in it, and the descriptors, are the same. */
  inheritFrom(parent: AddressSpace): void {
    this.syscallInstruction = parent.syscallInstruction;
    for (const [k, v] of parent.mappedFileFds) this.mappedFileFds.set(k, v);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  /** Reads up to len bytes; stops early at unmapped memory. */
  readPartial(addr: bigint, len: number): Buffer {
    const buf = Buffer.allocUnsafe(len);
    const fd = this.memFd();
    let done = 0;
    while (done < len) {
      let n: number;
      try {
        n = readSync(fd, buf, done, len - done, Number(addr) + done);
      } catch {
        break;
      }
      if (n <= 0) break;
      done += n;
    }
    return buf.subarray(0, done);
  }

  read(addr: bigint, len: number): Buffer {
    const b = this.readPartial(addr, len);
    if (b.length !== len) throw new TrrError(`cannot read ${len} bytes of tracee memory at 0x${addr.toString(16)} (process ${this.procPid})`);
    return b;
  }

  write(addr: bigint, data: Buffer): void {
    let done = 0;
    while (done < data.length) {
      let n: number;
      try {
        n = writeSync(this.memFd(), data, done, data.length - done, Number(addr) + done);
      } catch (e) {
        throw new TrrError(`cannot write ${data.length} bytes of tracee memory at 0x${addr.toString(16)} (process ${this.procPid}): ${(e as Error).message}`);
      }
      if (n <= 0) throw new TrrError(`cannot write tracee memory at 0x${(addr + BigInt(done)).toString(16)} (process ${this.procPid})`);
      done += n;
    }
  }

  readU64(addr: bigint): bigint {
    return this.read(addr, 8).readBigUInt64LE(0);
  }

  readU32(addr: bigint): number {
    return this.read(addr, 4).readUInt32LE(0);
  }

  readCString(addr: bigint, max = 4096): string {
    if (addr === 0n) return '';
    const chunks: Buffer[] = [];
    let total = 0;
    while (total < max) {
      // Read up to the end of the page so we never cross into unmapped memory needlessly.
      const pageLeft = 4096 - Number((addr + BigInt(total)) % 4096n);
      const part = this.readPartial(addr + BigInt(total), Math.min(pageLeft, max - total));
      if (part.length === 0) break;
      const nul = part.indexOf(0);
      if (nul >= 0) {
        chunks.push(part.subarray(0, nul));
        break;
      }
      chunks.push(part);
      total += part.length;
    }
    return Buffer.concat(chunks).toString('utf8');
  }
}

export class Task {
  private regsCache: Registers | undefined;
  private memory: AddressSpace;

  constructor(
    /** Live tid in this session. */
    readonly tid: number,
    /** Thread-group id (process id). */
    public tgid: number,
    mem: AddressSpace,
  ) {
    this.memory = mem;
    mem.addMember(tid);
  }

  get mem(): AddressSpace {
    return this.memory;
  }

  set mem(m: AddressSpace) {
    this.memory = m;
    m.addMember(this.tid);
  }


  regs(): Registers {
    if (!this.regsCache) {
      const buf = Buffer.alloc(USER_REGS_SIZE);
      ptraceBuffer(PTRACE.GETREGS, this.tid, 0, buf);
      this.regsCache = new Registers(buf);
    }
    return this.regsCache;
  }

  setRegs(r: Registers): void {
    ptraceBuffer(PTRACE.SETREGS, this.tid, 0, r.raw);
    this.regsCache = r.clone();
  }

  /** Forget cached registers (the task ran, or the kernel changed them). */
  invalidate(): void {
    this.regsCache = undefined;
  }

  eventMessage(): bigint {
    const b = Buffer.alloc(8);
    ptraceBuffer(PTRACE.GETEVENTMSG, this.tid, 0, b);
    return b.readBigUInt64LE(0);
  }

  sigInfo(): Buffer {
    const b = Buffer.alloc(128);
    ptraceBuffer(PTRACE.GETSIGINFO, this.tid, 0, b);
    return b;
  }

  setSigInfo(info: Buffer): void {
    ptraceBuffer(PTRACE.SETSIGINFO, this.tid, 0, Buffer.from(info));
  }

  /** The blocked-signal mask (bit n-1 for signal n). */
  sigMask(): bigint {
    const b = Buffer.alloc(8);
    ptraceBuffer(PTRACE.GETSIGMASK, this.tid, 8, b);
    return b.readBigUInt64LE(0);
  }

  setSigMask(mask: bigint): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(mask);
    ptraceBuffer(PTRACE.SETSIGMASK, this.tid, 8, b);
  }

  /** XSAVE area (x87, SSE, AVX and later state), as the kernel lays it out. */
  xstate(): Buffer {
    const b = Buffer.alloc(16384); // room for AMX tile data too
    return Buffer.from(b.subarray(0, ptraceGetRegset(this.tid, NT_X86_XSTATE, b)));
  }

  setXstate(area: Buffer): void {
    ptraceSetRegset(this.tid, NT_X86_XSTATE, area);
  }

  /** FXSAVE area (512 bytes): x87 and SSE state. */
  fpRegs(): Buffer {
    const b = Buffer.alloc(512);
    ptraceBuffer(PTRACE.GETFPREGS, this.tid, 0, b);
    return b;
  }
}
