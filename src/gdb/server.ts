// trr's gdbserver: answers GDB Remote Serial Protocol packets from a
// Debugger. The socket is transport.ts's (on the main thread; this runs
// with the Debugger in the replay worker, replay-worker.ts). Malformed or unknown packets get the protocol's
// empty or error reply and the server keeps going. Writes to memory and
// registers, and the code gdb runs (`print f(3)`), go to a throw-away copy
// of the replay (diverted.ts): the replay itself cannot be changed.
import { readFileSync } from 'node:fs';
import type { Debugger, StopReason } from '../replay/debugger.js';
import { describeError } from '../util/errors.js';
import { MAX_PACKET, hexOf, hexString, textOfHex } from './rsp.js';
import { REGS, registerBytes, registerSet, targetXml, vectorLevel, type VectorLevel } from './target.js';
import { HostIo } from './host-io.js';
import { DivertedWrites } from './diverted.js';
import { debuggeeFile } from '../replay/debuggee-files.js';
import type { TraceReader } from '../trace/trace-stream.js';

const FEATURES = [
  `PacketSize=${MAX_PACKET.toString(16)}`,
  'QStartNoAckMode+',
  'qXfer:features:read+',
  'qXfer:auxv:read+',
  'qXfer:exec-file:read+',
  'qXfer:threads:read+',
  'multiprocess+',
  'swbreak+',
  'vContSupported+',
  'ReverseContinue+',
  'ReverseStep+',
  'qXfer:siginfo:read+',
  'qXfer:siginfo:write+',
  'QCatchSyscalls+',
];

const PACKET_LOG = (process.env.TRR_LOG ?? '').includes('gdb');

/**
 * gdb numbers signals its own way (enum gdb_signal); most match Linux on
 * x86-64, these do not.
 */
const GDB_SIGNAL_FROM_LINUX: ReadonlyMap<number, number> = new Map([
  [7, 10], // SIGBUS
  [10, 30], // SIGUSR1
  [12, 31], // SIGUSR2
  [17, 20], // SIGCHLD
  [18, 19], // SIGCONT
  [19, 17], // SIGSTOP
  [20, 18], // SIGTSTP
  [23, 16], // SIGURG
  [29, 23], // SIGIO
  [30, 32], // SIGPWR
  [31, 12], // SIGSYS
]);

export function gdbSignal(linux: number): number {
  if (GDB_SIGNAL_FROM_LINUX.has(linux)) return GDB_SIGNAL_FROM_LINUX.get(linux)!;
  if (linux === 32) return 77; // GDB_SIGNAL_REALTIME_32
  if (linux >= 33 && linux <= 63) return 45 + (linux - 33); // GDB_SIGNAL_REALTIME_33..
  return linux;
}

/** What the server answers to one packet (see GdbServer.packet). */
export interface PacketAnswer {
  readonly reply: string | undefined;
  readonly noAck: boolean;
  readonly end: boolean;
}

export interface ServerOptions {
  /** Path of the debuggee's executable when the session starts (the trace's copy), for qXfer:exec-file. */
  readonly exePath: string;
  /** The recording, whose copies of the debuggee's files gdb reads. */
  readonly trace: TraceReader;
  readonly log?: (msg: string) => void;
}

export class GdbServer {
  private stop: StopReason;
  private noAck = false;
  private closed = false;
  private endAfterReply = false;

  /** gdb asked to be told of execs (qSupported exec-events+). */
  private execEvents = false;
  /** The debuggee's executable now (it changes with exec). */
  private exePath: string;
  /** gdb reads the debuggee's files (programs, libraries, /proc) through vFile packets. */
  private readonly hostIo = new HostIo(
    // The file gdb means by a path, as the debuggee sees it: the trace's copy of a mapped file, the live replay's /proc.
    (path) => debuggeeFile(path, this.options.trace, { pid: this.dbg.pid, livePid: this.dbg.liveProcessId(), liveTid: (tid) => this.dbg.liveTid(tid) }),
    // Only the recording's files (the trace's, and those it uses in place: held by reference) and the live replay's /proc/PID.
    () => {
      const live = this.dbg.liveProcessId();
      const trace = this.options.trace;
      const inPlace = [...trace.refs().values()].filter((r) => r.how === 'reference').map((r) => r.path);
      return [trace.filesDir, ...inPlace, ...(live === undefined ? [] : [`/proc/${live}`])];
    },
  );

  constructor(
    private readonly dbg: Debugger,
    private readonly options: ServerOptions,
  ) {
    this.stop = { kind: 'start', tid: dbg.pid };
    this.exePath = options.exePath;
    this.diverted = new DivertedWrites(dbg, (m) => this.options.log?.(m));
  }

  /** gdb's writes and calls, in a copy of the replay. */
  private readonly diverted: DivertedWrites;

  /** Where registers, memory and threads are read: the copy while gdb changed something, else the replay. */
  private get view() {
    return this.diverted.inspect();
  }

  /** Where the session stands when gdb connects (after -g / -e). */
  startAt(stop: StopReason): void {
    this.stop = stop;
  }

  /**
   * Answers one packet: the reply to send (undefined: end the connection
   * without one), whether acks end after it (QStartNoAckMode), and whether
   * the connection ends after it (detach). A failure is logged and answered
   * with an error. The transport (transport.ts) frames and sends it.
   */
  packet(payload: string): PacketAnswer {
    let reply: string | undefined;
    try {
      reply = this.handle(payload);
      if (PACKET_LOG) process.stderr.write(`[gdb] <- ${payload.slice(0, 200)}\n[gdb] -> ${(reply ?? '(end)').slice(0, 200)}\n`);
    } catch (e) {
      this.options.log?.(describeError(e).message);
      reply = 'E01';
    }
    return { reply, noAck: this.noAck, end: reply === undefined || this.endAfterReply };
  }

  /** The connection ended: gdb's open files are closed and any copy of the replay is dropped. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.hostIo.close();
    this.diverted.end();
  }

  private threadId(tid: number, pid = this.dbg.pid): string {
    return `p${pid.toString(16)}.${tid.toString(16)}`;
  }

  /** gdb was told of a vfork (see fork-events.ts): its next resume is answered with the vfork's end, without moving. */
  private vforkDone = false;

  /**
   * gdb selected a process other than the debuggee: a forked child it is
   * about to detach (it first takes its breakpoints out of it). trr does not
   * debug it: those requests change nothing.
   */
  private otherProcess = false;
  /** The children of forks gdb was told of and has not detached yet. */
  private readonly forkedChildren = new Set<number>();

  /** The thread gdb reads registers of (Hg); a stop makes it the stopped thread again. */
  private selected: number | undefined;

  /** Where the debuggee stands now; gdb's thread selection goes back to the thread that stopped. */
  private stoppedAt(s: StopReason): StopReason {
    this.stop = s;
    this.selected = undefined; // gdb takes the thread of a stop reply as its general thread again (but keeps its Hc)
    return s;
  }

  /** The thread whose registers gdb reads: the one it selected, while it lives, else the one that stopped. */
  private get registerThread(): number {
    return this.selected !== undefined && this.dbg.threads().includes(this.selected) ? this.selected : this.dbg.thread;
  }

  private stopReply(s: StopReason): string {
    this.stoppedAt(s);
    if (s.kind === 'start') this.exePath = this.options.exePath; // back before any exec
    const thread = `thread:${this.threadId(s.tid)};`;
    switch (s.kind) {
      case 'breakpoint':
        return `T05swbreak:;${thread}`;
      case 'watchpoint': {
        const key = s.watch.kind === 'write' ? 'watch' : s.watch.kind === 'read' ? 'rwatch' : 'awatch';
        return `T05${key}:${s.watch.address.toString(16)};${thread}`;
      }
      case 'signal':
        return `T${gdbSignal(s.signo).toString(16).padStart(2, '0')}${thread}`;
      case 'end':
        return `T05replaylog:end;${thread}`;
      case 'beginning':
        return `T05replaylog:begin;${thread}`;
      case 'interrupted':
        return `T02${thread}`;
      case 'syscall-entry':
      case 'syscall-return':
        return `T05${s.kind === 'syscall-entry' ? 'syscall_entry' : 'syscall_return'}:${s.nr.toString(16)};${thread}`;
      case 'fork':
      case 'vfork':
        this.vforkDone = s.kind === 'vfork';
        this.forkedChildren.add(s.child);
        return `T05${s.kind}:${this.threadId(s.child, s.child)};${thread}`;
      case 'exec':
        this.exePath = s.exe;
        return this.execEvents ? `T05exec:${hexString(s.exe)};${thread}` : `T05${thread}`;
      default:
        return `T05${thread}`;
    }
  }

  /** Returns the reply payload, or undefined to end the session. */
  handle(p: string): string | undefined {
    const [head] = p.split(/[:;,]/, 1) as [string];
    if (p === '?') return this.stopReply(this.stop);
    if (p.startsWith('qSupported')) {
      this.execEvents = /[:;]exec-events\+/.test(p);
      // Forks are reported only when gdb knows both kinds (it must detach every child it is told of).
      this.dbg.reportForks = /[:;]fork-events\+/.test(p) && /[:;]vfork-events\+/.test(p);
      return [...FEATURES, ...(this.execEvents ? ['exec-events+'] : []), ...(this.dbg.reportForks ? ['fork-events+', 'vfork-events+'] : [])].join(';');
    }
    if (p === 'QStartNoAckMode') {
      this.noAck = true;
      return 'OK';
    }
    if (p.startsWith('qXfer:siginfo:')) return this.diverted.siginfo(p) ?? 'E01';
    if (p.startsWith('qXfer:')) return this.xfer(p);
    if (p.startsWith('QCatchSyscalls:')) return this.catchSyscalls(p.slice('QCatchSyscalls:'.length));
    if (p === 'qfThreadInfo') return 'm' + this.dbg.threads().map((t) => this.threadId(t)).join(',');
    if (p === 'qsThreadInfo') return 'l';
    if (p === 'qC') return `QC${this.threadId(this.dbg.thread)}`;
    if (p.startsWith('qAttached')) return '1';
    if (p === 'qSymbol::') return 'OK';
    if (p.startsWith('H')) return this.selectThread(p) ? 'OK' : 'E01';
    if (this.otherProcess && /^[zZ][0-4],/.test(p)) return 'OK'; // a forked child's breakpoints: trr does not run it
    if (this.otherProcess && (p === 'g' || p[0] === 'm' || p[0] === 'p')) return 'E01';
    if (p.startsWith('T')) return this.parseThread(p.slice(1)) !== undefined ? 'OK' : 'E01';
    if (p === 'g') return this.allRegisters();
    if (head.startsWith('p') && /^p[0-9a-f]+$/.test(p)) return this.oneRegister(parseInt(p.slice(1), 16));
    if (p.startsWith('m')) return this.readMemory(p.slice(1));
    // gdb sets orig_rax to -1 on `run` so that no syscall is restarted: that is bookkeeping, not a change.
    if (p[0] === 'P' && !this.diverted.active && p.startsWith(`P${REGS.findIndex((r) => r.name === 'orig_rax').toString(16)}=`)) return 'OK';
    if (p[0] === 'G' || p[0] === 'P') return this.diverted.writeRegisters(p, this.registerThread, this.vectors());
    if (p[0] === 'M' || p[0] === 'X') return this.diverted.writeMemory(p);
    if (/^[Zz][01],/.test(p)) return this.breakpoint(p);
    if (/^[Zz][234],/.test(p)) return this.watchpoint(p);
    if (p === 'vCont?') return 'vCont;c;C;s;S';
    const moved = this.movedByRun;
    if (/^(vCont;|[cCsS]|b[cs])/.test(p)) {
      this.movedByRun = false;
      this.otherProcess = false;
      if (this.vforkDone) {
        this.vforkDone = false;
        if (!p.startsWith('b')) return this.stopReply({ kind: 'step', tid: this.dbg.thread }).replace(/^T05/, 'T05vforkdone:;');
      }
    }
    // gdb's `run` resumes the debuggee after vRun: once `run cN` or `run EVENT` moved it, it stays there.
    if (moved && /^(vCont;|[cCsS])/.test(p)) return `T00thread:${this.threadId(this.dbg.thread)};`;
    if (/^(vCont;|[cCsS]|b[cs]$)/.test(p) && !p.startsWith('vCont?')) {
      // A call's resume runs in the copy of the replay; any other drops the copy first.
      const step = /^(vCont;.*[sS]|[sS]|bs)/.test(p);
      const named = /^vCont;[sScC][0-9a-f]*:([^;]+)/.exec(p);
      const tid = named ? this.threadOf(named[1]!) : undefined;
      const diverted = this.diverted.active ? this.diverted.resume(step, typeof tid === 'number' ? tid : undefined) : undefined;
      if (diverted) return this.stopReply(diverted);
    } else if (this.diverted.active && /^(vRun|vKill|k$|D)/.test(p)) this.diverted.end();
    if (p.startsWith('vCont;')) return this.vCont(p);
    // The legacy resumes act on the thread of `Hc` (every thread: -1 or 0).
    if (p === 'c' || p.startsWith('c') || p.startsWith('C')) return this.stopReply(this.dbg.resume({ direction: 'forward', unit: 'continue', thread: this.continueThread, others: this.continueThread === undefined ? 'stop' : 'pass' }));
    if (p === 's' || p.startsWith('s') || p.startsWith('S')) return this.stopReply(this.dbg.resume({ direction: 'forward', unit: 'instruction', thread: this.continueThread ?? this.dbg.thread }));
    if (p === 'bc') return this.stopReply(this.dbg.resume({ direction: 'reverse', unit: 'continue' }));
    if (p === 'bs') return this.stopReply(this.dbg.resume({ direction: 'reverse', unit: 'instruction', thread: this.continueThread }));
    if (p.startsWith('vRun')) return this.run(p);
    if (p.startsWith('qRcmd,')) return this.monitor(textOfHex(p.slice(6)));
    if (p.startsWith('vFile:')) return this.hostIo.handle(p);
    if (p === 'k') {
      this.diverted.end();
      return undefined;
    }
    if (p.startsWith('vKill')) {
      // gdb's `run` kills, then vRun: the replay goes back to its start.
      this.stoppedAt(this.dbg.goto({ kind: 'start' })!);
      return 'OK';
    }
    if (p.startsWith('D')) {
      const pid = /^D;([0-9a-f]+)$/.exec(p);
      if (pid && this.forkedChildren.delete(parseInt(pid[1]!, 16))) return 'OK'; // a forked child gdb lets go: trr never debugged it
      this.endAfterReply = true;
      return 'OK';
    }
    if (p.startsWith('QNonStop:0') || p.startsWith('QThreadEvents') || p.startsWith('QPassSignals') || p.startsWith('QProgramSignals') || p.startsWith('QDisableRandomization') || p.startsWith('QEnvironment') || p.startsWith('QSetWorkingDir') || p.startsWith('QStartupWithShell')) return 'OK';
    return ''; // unknown or unsupported: the empty reply
  }

  /**
   * vRun;FILE;ARG...: gdb's `run`, which starts the debuggee again and
   * waits for a stop reply, so gdb refreshes everything (registers, threads,
   * libraries). Without an argument: the start of the recording, and gdb
   * continues from there as `run` does. As in rr, `run cN` goes to
   * checkpoint N and `run N` to event N, and `run start` to the start; the
   * debuggee stays there (trr's gdb commands `restart [N]` and `goto N` say
   * so).
   */
  private run(p: string): string {
    const arg = p.split(';').slice(2).map(textOfHex).join(' ').trim();
    if (arg === '') return this.stopReply(this.dbg.goto({ kind: 'start' })!);
    if (arg === 'start') {
      this.movedByRun = true;
      return this.stopReply(this.dbg.goto({ kind: 'start' })!);
    }
    const checkpoint = /^c(\d+)$/.exec(arg);
    if (checkpoint) {
      const stop = this.dbg.goto({ kind: 'checkpoint', checkpoint: Number(checkpoint[1]) });
      if (!stop) {
        this.options.log?.(`there is no checkpoint ${checkpoint[1]}; \`monitor checkpoint\` makes one.`);
        return 'E01';
      }
      this.movedByRun = true;
      return this.stopReply(stop);
    }
    const n = /^\d+$/.test(arg) ? Number(arg) : NaN;
    if (!Number.isInteger(n) || n >= this.dbg.eventCount) {
      this.options.log?.(`run ${arg}: give an event (0..${this.dbg.eventCount - 1}) or cN for checkpoint N.`);
      return 'E01';
    }
    this.movedByRun = true;
    return this.stopReply(this.dbg.goto({ kind: 'event', event: n })!);
  }

  /** QCatchSyscalls:0 (none), :1 (all), :1;NR;NR... (those, in hex). */
  private catchSyscalls(arg: string): string {
    const [on, ...nrs] = arg.split(';');
    if (on === '0' && nrs.length === 0) this.dbg.syscalls.set(undefined);
    else if (on === '1' && nrs.every((n) => /^[0-9a-f]+$/i.test(n))) this.dbg.syscalls.set(nrs.length ? nrs.map((n) => parseInt(n, 16)) : 'all');
    else return 'E01';
    return 'OK';
  }

  /** A `run cN` / `run EVENT` just moved the replay: gdb's resume that follows must not move it on. */
  private movedByRun = false;

  /** A thread id of gdb's (`pPID.TID`, `TID`; -1 all, 0 any): the recorded tid, 'all', or undefined when no such thread lives. */
  private threadOf(s: string): number | 'all' | undefined {
    const m = /^(?:p(-?[0-9a-f]+)\.)?(-?[0-9a-f]+)$/.exec(s);
    if (!m) return undefined;
    if (m[1] === '-1' || m[2] === '-1' || m[2] === '0') return 'all';
    const tid = parseInt(m[2]!, 16);
    return this.dbg.threads().includes(tid) ? tid : undefined;
  }

  private parseThread(s: string): number | undefined {
    const t = this.threadOf(s);
    return t === 'all' ? this.dbg.thread : t;
  }

  /**
   * `Hg` chooses the thread whose registers gdb reads, `Hc` the one the
   * legacy resumes (`c`, `s`, `bs`) act on. Neither moves the replay: a
   * position belongs to the thread that stopped.
   */
  private selectThread(p: string): boolean {
    // A forked child's thread (catch fork): gdb looks at it, but trr does not replay it.
    const other = /^p([0-9a-f]+)\./.exec(p.slice(2));
    this.otherProcess = other !== null && parseInt(other[1]!, 16) !== this.dbg.pid;
    if (this.otherProcess) return true;
    const t = this.threadOf(p.slice(2));
    if (t === undefined) return false;
    if (p[1] === 'c') this.continueThread = t === 'all' ? undefined : t;
    else this.selected = t === 'all' ? undefined : t;
    return true;
  }

  /** The thread of gdb's last `Hc`, undefined for every thread. */
  private continueThread: number | undefined;

  /**
   * vCont;ACTION[:THREAD]...: the first action that applies to a thread
   * wins. A step names its thread (`s:T`); the others either go on
   * (`c` after it: their hits stop the step too) or stay (nothing more:
   * scheduler-locking), which replay, keeping the recorded interleaving,
   * makes "run as recorded, unseen". A continue of one thread (`c:T`
   * alone) reports that thread's stops only.
   */
  private vCont(p: string): string {
    const actions: { kind: string; thread: number | 'all' }[] = [];
    for (const part of p.slice('vCont;'.length).split(';')) {
      const m = /^([cCsSt])(?:[0-9a-f]{2})?(?::(.+))?$/.exec(part);
      if (!m) return 'E01';
      const thread = m[2] === undefined ? 'all' : this.threadOf(m[2]);
      if (thread === undefined) continue; // a thread that is gone
      actions.push({ kind: m[1]!.toLowerCase(), thread });
    }
    const others = actions.some((a) => a.kind === 'c' && a.thread === 'all');
    const step = actions.find((a) => a.kind === 's');
    if (step) return this.stopReply(this.dbg.resume({ direction: 'forward', unit: 'instruction', thread: step.thread === 'all' ? this.dbg.thread : step.thread, others: others || step.thread === 'all' ? 'stop' : 'pass' }));
    const only = actions.find((a) => a.kind === 'c' && a.thread !== 'all');
    return this.stopReply(this.dbg.resume({ direction: 'forward', unit: 'continue', ...(others || !only ? {} : { thread: only.thread as number, others: 'pass' as const }) }));
  }

  private level: VectorLevel | undefined;

  /** The vector registers the debuggee's machine has (XCR0, from its XSAVE area), once known. */
  private vectors(): VectorLevel {
    if (this.level) return this.level;
    const xsave = this.view.extendedState(this.registerThread);
    if (xsave) this.level = vectorLevel(xsave);
    return vectorLevel(xsave);
  }

  /** The current thread's registers in `g`/`p` numbering: their count and a reader, or undefined when it cannot be read. */
  private registerReader(): { count: number; bytes: (i: number) => Buffer | undefined } | undefined {
    const level = this.vectors();
    const regs = this.view.registers(this.registerThread);
    const fx = this.view.fpRegisters(this.registerThread);
    if (!regs || !fx) return undefined;
    const xsave = level === 'sse' ? undefined : this.view.extendedState(this.registerThread);
    return { count: registerSet(level).length, bytes: (i) => registerBytes(i, regs, fx, xsave, level) };
  }

  private allRegisters(): string {
    const r = this.registerReader();
    return r ? Array.from({ length: r.count }, (_, i) => hexOf(r.bytes(i)!)).join('') : 'E01';
  }

  private oneRegister(i: number): string {
    const b = this.registerReader()?.bytes(i);
    return b ? hexOf(b) : 'E01';
  }

  private readMemory(args: string): string {
    const m = /^([0-9a-f]+),([0-9a-f]+)$/.exec(args);
    if (!m) return 'E01';
    const data = this.view.readMemory(BigInt('0x' + m[1]), Math.min(parseInt(m[2]!, 16), 0x8000));
    return data.length ? hexOf(data) : 'E14';
  }

  private breakpoint(p: string): string {
    const m = /^([Zz])[01],([0-9a-f]+),/.exec(p);
    if (!m) return 'E01';
    const addr = BigInt('0x' + m[2]);
    if (m[1] === 'Z') this.dbg.addBreakpoint(addr);
    else this.dbg.removeBreakpoint(addr);
    return 'OK';
  }

  /** Z2/Z3/Z4 (write/read/access watchpoints): any number, any size, by page protection. */
  private watchpoint(p: string): string {
    const m = /^([Zz])([234]),([0-9a-f]+),([0-9a-f]+)$/.exec(p);
    if (!m) return 'E01';
    const kind = m[2] === '2' ? 'write' : m[2] === '3' ? 'read' : 'access';
    const w = { address: BigInt('0x' + m[3]), length: parseInt(m[4]!, 16), kind } as const;
    if (m[1] === 'Z') this.dbg.addWatchpoint(w);
    else this.dbg.removeWatchpoint(w);
    return 'OK';
  }

  private xfer(p: string): string {
    const m = /^qXfer:([a-z-]+):read:([^:]*):([0-9a-f]+),([0-9a-f]+)$/.exec(p);
    if (!m) return '';
    const [, object, annex, offHex, lenHex] = m as unknown as [string, string, string, string, string];
    let data: Buffer;
    if (object === 'features' && annex === 'target.xml') data = Buffer.from(targetXml(this.vectors()));
    else if (object === 'auxv') data = readFileSync(`/proc/${this.dbg.liveProcessId()}/auxv`);
    else if (object === 'exec-file') data = Buffer.from(this.exePath);
    else if (object === 'threads') {
      const named = (t: number) => {
        const name = this.dbg.threadName(t);
        return name === undefined ? '' : ` name="${name.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`)}"`;
      };
      data = Buffer.from(`<?xml version="1.0"?><threads>${this.dbg.threads().map((t) => `<thread id="${this.threadId(t)}"${named(t)}/>`).join('')}</threads>`);
    } else return '';
    const off = parseInt(offHex, 16);
    const len = parseInt(lenHex, 16);
    const chunk = data.subarray(off, off + len);
    return (off + len >= data.length ? 'l' : 'm') + chunk.toString('latin1');
  }

  private monitor(cmd: string): string {
    const words = cmd.trim().split(/\s+/);
    if (['restart', 'run', 'goto'].includes(words[0] ?? '')) this.diverted.end(); // the replay moves: the copy is gone
    switch (words[0]) {
      case 'when':
        return hexString(`Current event: ${this.dbg.eventIndex}\n`);
      case 'checkpoint':
        return hexString(`Checkpoint ${this.dbg.checkpoint()} at event ${this.dbg.eventIndex}.\n`);
      case 'restart':
      case 'run': {
        if (words[1] === undefined) {
          this.stoppedAt(this.dbg.goto({ kind: 'start' })!);
          return hexString(`Restarted at the start of the recording (event ${this.dbg.eventIndex}). gdb does not know yet: use \`restart\` (or \`run\`) instead, or run \`maintenance flush register-cache\`.\n`);
        }
        const stop = this.dbg.goto({ kind: 'checkpoint', checkpoint: Number(words[1]) });
        if (!stop) return hexString(`trr: there is no checkpoint ${words[1]}; \`monitor checkpoint\` makes one.\n`);
        this.stoppedAt(stop);
        return hexString(`Back at checkpoint ${words[1]} (event ${this.dbg.eventIndex}). gdb does not know yet: use \`restart ${words[1]}\` (or \`run c${words[1]}\`) instead, or run \`maintenance flush register-cache\`, then \`frame\`.\n`);
      }
      case 'goto': {
        const n = Number(words[1]);
        if (!Number.isInteger(n) || n < 0 || n >= this.dbg.eventCount) return hexString(`usage: monitor goto EVENT (0..${this.dbg.eventCount - 1})\n`);
        this.stoppedAt(this.dbg.goto({ kind: 'event', event: n })!);
        return hexString(`Now at event ${this.dbg.eventIndex}. gdb does not know yet: use \`goto ${n}\` (or \`run ${n}\`) instead, or run \`maintenance flush register-cache\`, then \`frame\`.\n`);
      }
      case 'help':
      case undefined:
        return hexString(
          [
            'trr monitor commands:',
            '  monitor when          print the current event number',
            '  monitor goto EVENT    replay to event EVENT (numbers as `trr dump` prints them)',
            '  monitor restart       go back to the start of the recording',
            '  monitor checkpoint    remember the current point and print its number',
            '  monitor restart N     go back (or forward) to checkpoint N',
            '(gdb does not see a monitor command move the replay: the gdb commands `restart [N]` and',
            '`goto EVENT` that trr defines, or `run cN` and `run EVENT`, move it and refresh gdb)',
            '',
          ].join('\n'),
        );
      default:
        return hexString(`trr: unknown monitor command ${JSON.stringify(cmd)}; try \`monitor help\`.\n`);
    }
  }
}
