// The gdb side of diversions (src/replay/diversion.ts): gdb's writes to
// memory and registers, and the code gdb runs for `print f(3)` and `call
// f()`, go to a throw-away copy of the replay; the replay itself stays as
// the recording made it.
//
// When the copy is made and dropped follows gdb's packets, as in rr. The
// first write (`M`, `X`, `G`, `P`) makes it. gdb reads `$_siginfo`
// (qXfer:siginfo:read) before an inferior call and writes it back after it,
// so a resume that comes after registers were written, while a call is
// under way (more reads than writes of siginfo), runs the called code in the
// copy. Any other resume (continue, step, reverse execution, `run`) drops
// the copy first and resumes the replay where it stood: a `set var x = 1`
// lasts until the next resume.
import type { Registers } from '../arch/registers.js';
import type { Debugger, StopReason } from '../replay/debugger.js';
import { Diversion, refusedMessage } from '../replay/diversion.js';
import { describeError } from '../util/errors.js';
import { registerSize, writeRegisterBytes, type VectorLevel } from './target.js';

/** What the server reads registers, memory and threads from: the replay, or the copy while there is one. */
export interface Inspectable {
  threads(): number[];
  registers(tid: number): Registers | undefined;
  fpRegisters(tid: number): Buffer | undefined;
  extendedState(tid: number): Buffer | undefined;
  readMemory(address: bigint, length: number): Buffer;
}

/** Size of the siginfo gdb saves and restores around a call (x86-64 siginfo_t). */
const SIGINFO_SIZE = 128;

export class DivertedWrites {
  private diversion: Diversion | undefined;
  private view: Inspectable | undefined;
  /** Siginfo reads minus writes: a call is under way while positive. */
  private calls = 0;
  /** Registers were written since the last stop (a call sets pc, then resumes). */
  private wroteRegisters = false;
  /** The thread whose registers gdb wrote last: the one a call runs on. */
  private callThread: number | undefined;

  constructor(
    private readonly dbg: Debugger,
    private readonly log: (msg: string) => void,
  ) {}

  get active(): boolean {
    return this.diversion !== undefined;
  }

  /** Where reads go now. */
  inspect(): Inspectable {
    return this.view ?? this.dbg;
  }

  /** Makes the copy if there is none yet; undefined with a message when it cannot be made here. */
  private ensure(): Diversion | string {
    if (this.diversion) return this.diversion;
    try {
      const d = this.dbg.divert();
      this.diversion = d;
      const pid = this.dbg.pid;
      this.view = {
        threads: () => d.threads(),
        registers: (t) => d.liveTask(t)?.regs(),
        fpRegisters: (t) => d.liveTask(t)?.fpRegs(),
        extendedState: (t) => d.liveTask(t)?.xstate(),
        readMemory: (a, l) => d.readMemory(d.threads()[0] ?? pid, a, l),
      };
      return d;
    } catch (e) {
      return describeError(e).message;
    }
  }

  /** Drops the copy (the replay is as it was). */
  end(): void {
    const d = this.diversion;
    this.diversion = undefined;
    this.view = undefined;
    this.calls = 0;
    this.wroteRegisters = false;
    this.callThread = undefined;
    d?.close();
  }

  /** `M addr,len:hex` or `X addr,len:binary`. */
  writeMemory(p: string): string {
    const m = /^([MX])([0-9a-f]+),([0-9a-f]+):/s.exec(p);
    if (!m) return 'E01';
    const length = parseInt(m[3]!, 16);
    const body = p.slice(m[0].length);
    const data = m[1] === 'M' ? Buffer.from(body, 'hex') : Buffer.from(body, 'latin1');
    if (data.length !== length) return 'E01';
    if (length === 0) return 'OK'; // gdb's probe for X
    const d = this.ensure();
    if (typeof d === 'string') return this.refuse(d);
    return d.writeMemory(BigInt('0x' + m[2]), data) ? 'OK' : 'E14';
  }

  /** `P n=hex` (one register) or `G hex` (all), for thread `tid`. */
  writeRegisters(p: string, tid: number, level: VectorLevel): string {
    const d = this.ensure();
    if (typeof d === 'string') return this.refuse(d);
    const task = d.liveTask(tid);
    if (!task) return 'E01';
    const regs = task.regs().clone();
    const xsave = task.xstate();
    const changed = new Set<'gp' | 'xsave' | undefined>();
    if (p[0] === 'P') {
      const m = /^P([0-9a-f]+)=([0-9a-f]*)$/.exec(p);
      if (!m) return 'E01';
      changed.add(writeRegisterBytes(parseInt(m[1]!, 16), Buffer.from(m[2]!, 'hex'), regs, xsave, level));
      if (changed.has(undefined)) return 'E01';
    } else {
      const all = Buffer.from(p.slice(1), 'hex');
      for (let i = 0, at = 0; at < all.length; i++) {
        const size = registerSize(i, level);
        if (size === undefined) break;
        changed.add(writeRegisterBytes(i, all.subarray(at, at + size), regs, xsave, level));
        at += size;
      }
    }
    if (changed.has('gp')) d.setRegisters(tid, regs);
    if (changed.has('xsave')) d.setExtendedState(tid, xsave);
    this.wroteRegisters = true;
    this.callThread = tid;
    return 'OK';
  }

  /** qXfer:siginfo:read / write: gdb saving and restoring it around a call. */
  siginfo(p: string): string | undefined {
    const read = /^qXfer:siginfo:read::([0-9a-f]+),([0-9a-f]+)$/.exec(p);
    if (read) {
      const off = parseInt(read[1]!, 16);
      if (off === 0) this.calls++;
      const info = Buffer.alloc(SIGINFO_SIZE);
      info.writeInt32LE(5, 0); // SIGTRAP: the thread stands at a debugger stop
      const chunk = info.subarray(off, off + parseInt(read[2]!, 16));
      return (off + chunk.length >= SIGINFO_SIZE ? 'l' : 'm') + chunk.toString('latin1');
    }
    const write = /^qXfer:siginfo:write::([0-9a-f]+):/s.exec(p);
    if (write) {
      const data = p.slice(write[0].length);
      if (parseInt(write[1]!, 16) === 0) this.calls = Math.max(0, this.calls - 1);
      return data.length.toString(16);
    }
    return undefined;
  }

  /**
   * Before any resume: runs it in the copy when it is the resume of a call
   * (see the top of this file), with `step` for a single step; otherwise
   * drops the copy and returns undefined (the replay resumes).
   */
  resume(step: boolean, named: number | undefined): StopReason | undefined {
    const d = this.diversion;
    const call = d !== undefined && this.calls > 0 && this.wroteRegisters;
    this.wroteRegisters = false;
    if (!call) {
      this.end();
      return undefined;
    }
    const tid = named ?? this.callThread ?? this.dbg.thread;
    const stop = d.run(tid, step, () => this.dbg.interruptRequested?.() ?? false);
    const refused = refusedMessage(d.refused.splice(0));
    if (refused) this.log(refused);
    switch (stop.kind) {
      case 'breakpoint':
        return { kind: 'breakpoint', tid: stop.tid, address: stop.address };
      case 'signal':
        return { kind: 'signal', tid: stop.tid, signo: stop.signo };
      case 'gone':
        return { kind: 'signal', tid: this.dbg.thread, signo: 9 };
      default:
        return stop;
    }
  }

  /** A write trr cannot make: gdb shows the message. */
  private refuse(why: string): string {
    this.log(why);
    return `E.${why}`;
  }
}
