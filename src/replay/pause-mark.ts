// Pauses in the middle of a run: where the front end's interrupt (gdb's
// Ctrl-C, DAP's pause) stopped a thread that computes between two events
// (TaskControl.interruptPoll). Such a stop is a position like any other
// inside a run (next record, thread, registers: see reverse.ts), which replay
// finds again with a breakpoint at its instruction and a look at the
// registers at every visit; but a pause usually lands in a hot loop, whose
// instructions were visited millions of times since the run began, each
// visit a stop. So the timeline keeps a mark at the pause, which makes going
// back from it cheap while the debugger stands there:
//
// - an image of the replay where the interrupt stopped the thread, after
//   which the thread executes up to PRE_STEPS more instructions (single
//   steps) before the stop is reported: a reverse-stepi in that window
//   restores the image and single-steps to the registers of the step before
//   (a stepi forwards widens the window);
// - the origin of the continue it interrupted: where it started, with the
//   breakpoints, watchpoints and catchpoints armed then. Nothing between the
//   origin and the pause stopped that continue, so while no stop has been
//   armed since, the previous hit before the pause is the origin itself (a
//   breakpoint there) or the previous hit before the origin.
//
// Anything else (a stop armed since, a reverse-stepi past the window, a pause
// of a stepi that ran other threads' records) goes back the general way.
import { Registers } from '../arch/registers.js';
import type { StopReason } from './debugger.js';
import type { ReplaySession, SessionImage } from './replay-session.js';
import type { Position } from './reverse.js';
import type { SyscallCatch } from './syscall-catch.js';
import { samePlace } from './visit-count.js';
import type { WatchBook } from './watch-book.js';
import type { Watch } from './watchpoints.js';
import { TrrError } from '../util/errors.js';

/** Instructions a paused thread executes past where the interrupt stopped it (the reverse-stepi window). */
export const PRE_STEPS = 64;

/** What the pause mark needs of the Debugger. */
export interface PauseHost {
  readonly session: ReplaySession;
  readonly breakpoints: ReadonlySet<bigint>;
  readonly watches: WatchBook;
  readonly syscalls: SyscallCatch;
  readonly reportForks: boolean;
  midRun: boolean;
  currentTid: number;
  position(): Position;
  sessionFrom(image: SessionImage): ReplaySession;
  replaceSession(s: ReplaySession): ReplaySession;
  disarm(s: ReplaySession): void;
  rearm(s: ReplaySession): void;
}

/** Where a forward continue started, and what could stop it. */
export interface Origin {
  readonly from: Position;
  /** The stop the debugger reported there. */
  readonly stop: StopReason['kind'];
  readonly breakpoints: ReadonlySet<bigint>;
  readonly watches: readonly Watch[];
  readonly catches: string;
  readonly forks: boolean;
}

interface Mark {
  /** The replay where the interrupt stopped thread `tid`, inside its run before record `pos`. */
  readonly image: SessionImage;
  readonly pos: number;
  readonly tid: number;
  /**
   * The thread's registers at the image and after each single step since,
   * up to where the debugger stands when it stands at the mark (the last).
   * Going back, a step is found again by its registers, not counted: the
   * first single step after an interrupt stop may execute two instructions.
   */
  readonly path: Buffer[];
  /** The continue the pause interrupted, while nothing stands between its start and the pause. */
  origin: Origin | undefined;
}

const sameWatch = (a: Watch, b: Watch) => a.address === b.address && a.length === b.length && a.kind === b.kind;

/** The pause mark of a Debugger (at most one: the latest pause). */
export class PauseMark {
  private mark: Mark | undefined;

  constructor(private readonly host: PauseHost) {}

  /** The mark, when the debugger stands at it. */
  private current(): Mark | undefined {
    const m = this.mark;
    if (!m || !this.host.midRun || this.host.currentTid !== m.tid || this.host.session.position !== m.pos) return undefined;
    const here = this.host.position().regs;
    return here && samePlace(here, m.path[m.path.length - 1]!) ? m : undefined;
  }

  /** Whether the debugger stands at the pause (its thread in user code, where it may simply be continued). */
  standsAt(): boolean {
    const m = this.current();
    return m !== undefined && this.host.session.threadState(m.tid) === 'ready';
  }

  /** The stops armed now, for a continue that starts here after stop `stop`; from the mark's origin when it stands at one whose origin still holds. */
  originHere(stop: StopReason['kind']): Origin {
    const h = this.host;
    const now: Origin = { from: h.position(), stop, breakpoints: new Set(h.breakpoints), watches: [...h.watches.watches], catches: h.syscalls.key, forks: h.reportForks };
    const m = this.current();
    const o = m?.origin;
    if (!o || !this.holds(o) || h.breakpoints.has(new Registers(m.path[m.path.length - 1]!).ip)) return now;
    // Nothing stopped the continue from o to the mark, nor stops the next one here: a continue from o with the stops armed in both.
    return { ...o, breakpoints: new Set([...h.breakpoints].filter((b) => o.breakpoints.has(b))), watches: o.watches.filter((w) => h.watches.watches.some((x) => sameWatch(w, x))) };
  }

  /** Whether no stop is armed now that was not armed for the continue from `o` (so none was passed between). */
  private holds(o: Origin): boolean {
    const h = this.host;
    if (h.syscalls.key !== o.catches || (h.reportForks && !o.forks)) return false;
    for (const b of h.breakpoints) if (!o.breakpoints.has(b)) return false;
    return h.watches.watches.every((w) => o.watches.some((x) => sameWatch(w, x)));
  }

  /**
   * The debugger's session was just interrupted inside a run (the debugger
   * stands there): images it, and runs the thread PRE_STEPS instructions on
   * (fewer when one of them would leave its run, or at a breakpoint's
   * address). `origin`: the continue that was interrupted, if it was one.
   */
  paused(origin: Origin | undefined): void {
    this.drop();
    const h = this.host;
    const s = h.session;
    const tid = h.currentTid;
    if (!h.midRun || !s.liveTask(tid) || s.imageBlocker()) return;
    const image = s.image();
    const path = [s.liveTask(tid)!.regs().raw];
    try {
      // A step that faults on a watched page is a watchpoint's business: with watches, the pause stays where it is.
      while (h.watches.watches.length === 0 && path.length <= PRE_STEPS && s.nextRecord()?.tid === tid && s.canSingleStep(tid)) {
        const r = s.stepInstruction(tid);
        if (r.kind !== 'stepped') {
          // That instruction made the thread's event: stand before it, from the image.
          const back = this.stepTo(image, tid, path[path.length - 1]!, path.length + 1);
          if (!back) throw new TrrError(`internal error: the replay did not come back to where the pause stood`);
          h.replaceSession(back);
          h.midRun = true;
          break;
        }
        path.push(s.liveTask(tid)!.regs().raw);
        if (h.breakpoints.has(new Registers(path[path.length - 1]!).ip)) break;
      }
    } catch (e) {
      image.tasks.dispose();
      throw e;
    }
    this.mark = { image, pos: h.session.position, tid, path, origin };
  }

  /**
   * A session from `image` in which thread `tid` single-stepped to the
   * registers `target` (at most `limit` steps), with the debugger's
   * breakpoints and watches; undefined if it does not get there.
   */
  private stepTo(image: SessionImage, tid: number, target: Buffer, limit: number, walked: Buffer[] = []): ReplaySession | undefined {
    const h = this.host;
    const s = h.sessionFrom(image);
    try {
      h.disarm(s);
      for (let n = 0; ; n++) {
        walked.push(s.liveTask(tid)!.regs().raw);
        if (samePlace(walked[walked.length - 1]!, target)) break;
        if (n === limit || s.stepInstruction(tid).kind !== 'stepped') {
          s.close();
          return undefined;
        }
      }
      h.rearm(s);
      return s;
    } catch (e) {
      s.close();
      throw e;
    }
  }

  /**
   * Called before a forward stepi; returns what to call after it, which
   * widens the window when the step stayed in the mark's run.
   */
  beforeStep(): (stop: StopReason) => void {
    const m = this.current();
    return (stop) => {
      const h = this.host;
      if (!m || stop.kind !== 'step' || !h.midRun || h.currentTid !== m.tid || h.session.position !== m.pos) return;
      const regs = h.session.liveTask(m.tid)!.regs().raw;
      m.path.push(regs);
      if (h.breakpoints.has(new Registers(regs).ip)) m.origin = undefined; // a visit of a breakpoint after the origin
    };
  }

  /** A reverse-stepi of the mark's thread inside the window: from the image, to the registers one step back. Undefined outside it. */
  reverseStep(): StopReason | undefined {
    const m = this.current();
    if (!m || m.path.length < 2) return undefined;
    const h = this.host;
    const walked: Buffer[] = [];
    const s = this.stepTo(m.image, m.tid, m.path[m.path.length - 2]!, m.path.length + 1, walked);
    if (!s) return undefined;
    h.replaceSession(s);
    h.midRun = true;
    h.currentTid = m.tid;
    m.path.splice(0, m.path.length, ...walked); // every step from the image, as single steps from there take them
    return { kind: 'step', tid: m.tid };
  }

  /**
   * Where a reverse-continue from here goes, found without searching the
   * run: to the origin itself (a breakpoint there), or on from it ('before':
   * the previous hit before it). Undefined when the debugger does not stand
   * at the mark, or stops were armed since.
   */
  reverseFrom(): { readonly to: Position; readonly address: bigint } | { readonly before: Position } | undefined {
    const m = this.current();
    const o = m?.origin;
    if (!o || !this.holds(o) || o.from.entry) return undefined;
    if (o.from.regs) {
      const address = new Registers(o.from.regs).ip;
      if (this.host.breakpoints.has(address)) return { to: o.from, address };
    }
    // A stop at a boundary that is a hit going backwards (a caught syscall's return, a fork, a watched value a syscall changed): the general way.
    if (o.stop !== 'start' && o.stop !== 'step' && o.stop !== 'interrupted' && o.stop !== 'breakpoint' && o.stop !== 'beginning') return undefined;
    return { before: o.from };
  }

  drop(): void {
    this.mark?.image.tasks.dispose();
    this.mark = undefined;
  }
}
