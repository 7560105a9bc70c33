// Reverse execution on the replay timeline: reverse-continue (the previous
// breakpoint or watchpoint hit) and reverse-stepi (the instruction before),
// found by replaying again from checkpoints. Replay is deterministic, so a
// position reached before can be reached again. It works on the Debugger's
// sessions, images, breakpoints and watches through TimelineCore, which the
// Debugger gives it; it owns none of them.
import { Registers } from '../arch/registers.js';
import type { TraceRecord } from '../trace/format.js';
import type { TraceReader } from '../trace/trace-stream.js';
import { TrrError } from '../util/errors.js';
import type { AutoCheckpoints } from './checkpoints.js';
import type { StopReason } from './debugger.js';
import type { ReplaySession, SessionImage, StepResult } from './replay-session.js';
import type { WatchBook } from './watch-book.js';
import { callSiteBefore } from './call-site.js';
import { ForwardMarks } from './forward-marks.js';
import { RunMarks, StepSample, countVisits, pickAnchor, samePlace, type Anchor } from './visit-count.js';

/** Single steps reverseStep() takes from an anchor before it looks for a closer one. */
const SAMPLE_STEPS = 2000;
/** A watch search densifies (see densify()) a stretch of at least this many events, into about DENSE_IMAGES images. */
const DENSE_MIN_EVENTS = 32;
const DENSE_IMAGES = 32;

/** An image the reverse search went past, and how many stops it had numbered by then. */
interface Mark {
  readonly image: SessionImage;
  readonly ordinal: number;
}

/**
 * A stop found while replaying forwards from a checkpoint: the n-th
 * breakpoint hit or watch fault, a value a syscall changed, or the entry
 * (in record N) or return (just before record N) of a caught syscall.
 */
type Hit = { readonly ordinal: number } | { readonly beforeEvent: number } | { readonly entryAt: number } | { readonly returnAt: number } | { readonly forkAt: number };

export interface Position {
  readonly pos: number;
  readonly tid: number;
  /** Registers when stopped in the middle of the thread's run; undefined at an event boundary. */
  readonly regs: Buffer | undefined;
  /** At the entry stop of the syscall of record `pos` (see SyscallCatch). */
  readonly entry?: boolean;
}

/** What reverse execution needs of the Debugger (src/replay/debugger.ts). */
export interface TimelineCore {
  readonly trace: TraceReader;
  readonly pid: number;
  /** Records before the debuggee exists. */
  readonly startAfter: number;
  readonly breakpoints: ReadonlySet<bigint>;
  readonly watches: WatchBook;
  readonly images: AutoCheckpoints;
  /** The debugger's own session (the one the user sees). */
  readonly session: ReplaySession;
  /** Stopped inside currentTid's run (not at an event boundary). */
  midRun: boolean;
  currentTid: number;
  position(): Position;
  sessionFrom(image: SessionImage | undefined): ReplaySession;
  sessionBefore(pos: number, inclusive: boolean): ReplaySession;
  replaceSession(s: ReplaySession): ReplaySession;
  advance(s: ReplaySession): StepResult;
  examine(s: ReplaySession, r: StepResult): StopReason | undefined;
  interrupted(): boolean;
  /** For a session's interruptPoll (TaskControl): stops a thread in the middle of its run when the front end interrupts. */
  readonly interruptPoll: () => boolean;
  disarm(s: ReplaySession): void;
  rearm(s: ReplaySession): void;
  walkTo(index: number): void;
  restart(): StopReason;
  /** The caught syscall whose entry is in the next record of `s`, when it is the debuggee's and `s` is not held there yet. */
  caughtEntry(s: ReplaySession): number | undefined;
  /** Whether step `r` of `s` just replayed the return of a caught syscall of the debuggee: the position after it. */
  returnHere(s: ReplaySession, r: StepResult): number | undefined;
  /** Runs the debugger's session to the next record's (caught) syscall's entry: that stop, or a hit on the way. */
  holdAtCaughtEntry(): StopReason | undefined;
  /** After `r`, a step of the debugger's session: the return of a caught syscall, if that is what it replayed. */
  caughtReturn(r: StepResult): StopReason | undefined;
  /** When forks are reported and `s` stands just after a fork or vfork of the debuggee: that position. */
  forkHere(s: ReplaySession): number | undefined;
  /** The fork or vfork the debugger's session stands just after, as a stop (none pending after it). */
  forkStopHere(): StopReason | undefined;
}

export class ReverseExecution {
  constructor(private readonly core: TimelineCore) {}

  /** Images taken by reverse-stepi's counting in the current run (see visit-count.ts). */
  private readonly marks = new RunMarks();

  /** Images of the debugger's session on its way forwards in the current run (see forward-marks.ts). */
  private readonly forward = new ForwardMarks();

  close(): void {
    this.marks.clear();
    this.forward.clear();
  }

  /**
   * The debugger's session is about to go forwards ('start') or made one
   * single step forwards ('step'): images it where it stands in a thread's
   * run when a forward mark is due there.
   */
  markForward(when: 'start' | 'step'): void {
    const at = this.core.position();
    if (!at.regs || at.entry) return;
    if (when === 'start' && this.forward.has(at.pos, at.tid)) return;
    if (when === 'step' && !this.forward.stepped()) return;
    this.forward.add(this.core.session, at.pos, at.tid, at.regs);
  }

  /** The debugger moved other than forwards or by reverse-stepi: the forward marks no longer stand before it. */
  forgetForward(): void {
    this.forward.clear();
  }

  /**
   * reverse-stepi from a forward mark of the target's run (see
   * forward-marks.ts): single-steps from the latest one the target comes
   * after, within SAMPLE_STEPS, and stops one instruction short. Undefined
   * when no mark is that close.
   */
  private reverseStepFromMark(target: Position): StopReason | undefined {
    for (const m of this.forward.candidates(target.pos, target.tid)) {
      if (samePlace(m.regs, target.regs!)) continue; // the target itself: the instruction before it is before the mark
      const s = this.core.sessionFrom(m.image);
      let steps: number | 'event' | StepSample;
      try {
        this.core.disarm(s);
        steps = this.stepsTo(s, target, SAMPLE_STEPS);
      } finally {
        s.close();
      }
      if (typeof steps !== 'number' || steps === 0) continue;
      this.core.disarm(this.core.replaceSession(this.core.sessionFrom(m.image)));
      for (let i = 0; i < steps - 1; i++) this.core.session.stepInstruction(target.tid);
      this.core.rearm(this.core.session);
      this.core.midRun = true;
      this.core.currentTid = target.tid;
      this.forward.keepUpTo(m); // the ones after it were at or after the target
      return { kind: 'step', tid: target.tid };
    }
    return undefined;
  }

  /**
   * Replays session `s` from where it stands towards `target`, numbering
   * every stop the debugger cares about (breakpoint hits and watch faults, in
   * order). Returns the last one before `target` that was a real hit: by
   * number, or, for a value changed by a syscall, as "just before event N".
   *
   * A target in the middle of a run is found again by its instruction and
   * registers (a temporary breakpoint, a stop at every visit); with `at`, an
   * image taken at the target, it is not looked for at all: the search runs
   * to the end of the target's run, and the hits after the target are
   * counted from the image on (countFrom) and left out. That costs the rest
   * of the run instead of a stop per visit of the target's instruction (a
   * pause in a hot loop, see pause-mark.ts).
   */
  private lastHitBefore(s: ReplaySession, target: Position, marks: Mark[], at?: SessionImage): Hit | 'interrupted' | undefined {
    const ends = at ? target.pos + 1 : target.pos;
    const extra = target.regs && !target.entry && !at ? new Registers(target.regs).ip : undefined;
    if (extra !== undefined && !this.core.breakpoints.has(extra)) s.setBreakpoint(this.core.pid, extra);
    let ordinal = 0;
    /** The hits in order; `after`: found past the target (with `at` only; ordinal hits are told apart by number at the end). */
    const hits: { readonly hit: Hit; readonly after: boolean }[] = [];
    const note = (hit: Hit, after = false) => hits.push({ hit, after });
    // A caught syscall that returned just before where the search starts (the image's position) is in this stretch.
    const firstFork = this.core.forkHere(s);
    if (firstFork !== undefined && (target.regs || firstFork < target.pos)) note({ forkAt: firstFork });
    const first = this.core.returnHere(s, { kind: 'event' });
    if (first !== undefined && (target.regs || first < target.pos)) note({ returnAt: first });
    for (;;) {
      if (((!target.regs || at) && s.position >= ends) || s.atEnd) break;
      if (s.position > ends) throw new TrrError(`internal error: going back, the replay did not come to where it stood (event ${target.pos}) again`);
      if (this.core.interrupted()) return 'interrupted';
      let r: StepResult;
      if (this.core.caughtEntry(s) !== undefined || (target.entry && s.position === target.pos && s.heldAtEntry === undefined)) {
        const h = s.holdAtEntry();
        if (h.kind === 'held') {
          if (target.entry && s.position === target.pos) break;
          note({ entryAt: s.position }, s.position >= target.pos);
          continue;
        }
        r = h;
      } else r = this.core.advance(s);
      if (r.kind === 'interrupted') {
        this.core.interrupted(); // takes the request
        return 'interrupted';
      }
      if (r.kind === 'breakpoint') {
        if (extra !== undefined && s.position === target.pos && r.tid === target.tid && samePlace(s.liveTask(r.tid)!.regs().raw, target.regs!)) break;
        if (this.core.breakpoints.has(r.address)) note({ ordinal: ++ordinal });
      } else if (r.kind === 'watch-fault') {
        const mark = ++ordinal;
        if (this.core.examine(s, r)) note({ ordinal: mark });
      } else if (r.kind === 'event') {
        if (this.core.examine(s, r)) note({ beforeEvent: s.position - 1 }, s.position - 1 >= target.pos);
        const fork = this.core.forkHere(s);
        if (fork !== undefined && (target.regs || fork < target.pos)) note({ forkAt: fork }, fork > target.pos); // going backwards the syscall's return comes first
        const ret = this.core.returnHere(s, r);
        if (ret !== undefined && (target.regs || ret < target.pos)) note({ returnAt: ret }, ret > target.pos); // not the return the debuggee stands just after
        const image = this.core.images.at(s.position); // taken on the way, or there before
        if (image) marks.push({ image, ordinal });
      }
    }
    let before = ordinal;
    if (at) {
      const later = this.countFrom(at, ends);
      if (later === 'interrupted') return later;
      before -= later;
    }
    const kept = hits.filter((h) => ('ordinal' in h.hit ? h.hit.ordinal <= before : !h.after));
    return kept[kept.length - 1]?.hit;
  }

  /** The stops lastHitBefore numbers (breakpoint hits, watch faults) from `image` to event boundary `ends`. */
  private countFrom(image: SessionImage, ends: number): number | 'interrupted' {
    const s = this.core.sessionFrom(image);
    s.interruptPoll = this.core.interruptPoll;
    try {
      let n = 0;
      while (s.position < ends && !s.atEnd) {
        if (this.core.interrupted()) return 'interrupted';
        const r = this.core.advance(s);
        if (r.kind === 'interrupted') {
          this.core.interrupted();
          return 'interrupted';
        }
        if (r.kind === 'breakpoint' && this.core.breakpoints.has(r.address)) n++;
        else if (r.kind === 'watch-fault') {
          n++;
          this.core.examine(s, r);
        } else if (r.kind === 'event') this.core.examine(s, r);
      }
      return n;
    } finally {
      s.close();
    }
  }

  /**
   * The latest of `marks` (images the search passed, see lastHitBefore)
   * that is still kept and comes before `hit`, with the hit as counted
   * from there; else `image` (where the search started) and the hit.
   */
  private nearestBefore(image: SessionImage | undefined, hit: Hit, marks: readonly Mark[]): { image: SessionImage | undefined; hit: Hit } {
    const at = 'ordinal' in hit ? undefined : 'beforeEvent' in hit ? hit.beforeEvent : 'forkAt' in hit ? hit.forkAt : 'returnAt' in hit ? hit.returnAt : hit.entryAt;
    for (let i = marks.length - 1; i >= 0; i--) {
      const m = marks[i]!;
      if (!this.core.images.has(m.image)) continue;
      if ('ordinal' in hit ? m.ordinal < hit.ordinal : m.image.pos < at!) return { image: m.image, hit: 'ordinal' in hit ? { ordinal: hit.ordinal - m.ordinal } : hit };
    }
    return { image, hit };
  }

  /**
   * Before a search that watches memory, from `end` back to the latest
   * checkpoint: when that stretch holds many events, replays it once with
   * the breakpoints and watches lifted (as fast as a plain replay) and
   * images it every few events, pinning the images in `pinned`. A watched
   * page shared with other data makes the search itself slow (every store
   * to the page faults), and the search then starts from the image before
   * `end` instead of from the checkpoint: a write late in a long stretch is
   * found without going through the whole stretch with the watch armed.
   */
  private densify(end: Position, pinned: SessionImage[]): void {
    const image = this.core.images.latest(end.pos, end.regs !== undefined);
    const last = end.regs ? end.pos : end.pos - 1; // the latest boundary an image may stand at
    const from = image?.pos ?? this.core.startAfter + 1;
    if (last - from < DENSE_MIN_EVENTS) return;
    const every = Math.ceil((last - from) / DENSE_IMAGES);
    const s = this.core.sessionFrom(image);
    try {
      this.core.disarm(s);
      let next = s.position + every;
      while (s.position < last && !s.atEnd) {
        if (this.core.interrupted()) return;
        if (this.core.advance(s).kind !== 'event') return; // nothing is armed: it cannot stop elsewhere
        if (s.position < next) continue;
        const im = this.core.images.takePinned(s);
        if (!im) continue; // cannot be imaged here: at the next boundary
        pinned.push(im);
        next = s.position + every;
      }
    } finally {
      s.close();
    }
  }

  /** Makes a session from `image` (see sessionFrom) the debugger's, and replays it to the stop `hit` names. */
  private replayToHit(image: SessionImage | undefined, hit: Hit): StopReason {
    const s = this.core.replaceSession(this.core.sessionFrom(image));
    let ordinal = 0;
    for (;;) {
      if ('beforeEvent' in hit && s.position === hit.beforeEvent) {
        this.core.midRun = false;
        const tid = s.nextRecord()!.tid;
        if (s.liveTask(tid)) this.core.currentTid = tid;
        return { kind: 'watchpoint', tid: this.core.currentTid, watch: this.core.watches.watches[0]! };
      }
      if ('forkAt' in hit && s.position === hit.forkAt) {
        this.core.midRun = false;
        return this.core.forkStopHere()!;
      }
      if ('returnAt' in hit && s.position === hit.returnAt) {
        this.core.midRun = false;
        return this.core.caughtReturn({ kind: 'event' })!;
      }
      let r: StepResult;
      if ('entryAt' in hit && s.position === hit.entryAt) {
        const stop = this.core.holdAtCaughtEntry();
        if (stop?.kind === 'syscall-entry') return stop;
        continue;
      } else r = this.core.advance(s);
      if ((r.kind === 'breakpoint' && this.core.breakpoints.has(r.address)) || r.kind === 'watch-fault') {
        if ('ordinal' in hit && ++ordinal === hit.ordinal) {
          this.core.midRun = true;
          this.core.currentTid = r.tid;
          if (r.kind === 'breakpoint') return { kind: 'breakpoint', tid: r.tid, address: r.address };
          // Stand before the instruction that changed the value, as going backwards demands.
          return { kind: 'watchpoint', tid: r.tid, watch: this.core.watches.at(r.address) };
        }
        if (r.kind === 'watch-fault') this.core.examine(s, r);
      } else if (r.kind === 'event') this.core.examine(s, r);
    }
  }

  /**
   * Runs backwards to the previous breakpoint or watchpoint hit, or to the
   * start of the recording. The stretch from the latest checkpoint to here
   * is searched first, then the one before it, and so on. An interrupt
   * during the search leaves the debugger where it was. With `from`, the
   * previous hit before that position (the debugger stands after it, with
   * nothing to stop at in between: see pause-mark.ts). With `imaged`, the
   * current position is not looked for in its run (see lastHitBefore).
   */
  reverseContinue(from?: Position, imaged = false): StopReason {
    this.forward.clear();
    let end = from ?? this.core.position();
    // With `imaged`, the debugger stands at `end`, inside a run, where the search is not to look for it (see lastHitBefore).
    let at = !from && imaged && end.regs && !end.entry && !this.core.session.imageBlocker() ? this.core.session.image() : undefined;
    const pinned: SessionImage[] = [];
    try {
      if (this.core.watches.watches.length > 0) this.densify(end, pinned);
      for (;;) {
        const image = this.core.images.latest(end.pos, end.regs !== undefined);
        const found = this.core.images.hold(image, () => {
          const probe = this.core.sessionFrom(image);
          probe.interruptPoll = this.core.interruptPoll; // a long run in the stretch searched can be interrupted too
          const marks: Mark[] = [];
          let hit: ReturnType<ReverseExecution['lastHitBefore']>;
          try {
            hit = this.lastHitBefore(probe, end, marks, at);
          } finally {
            probe.close();
          }
          if (hit === 'interrupted') return { kind: 'interrupted', tid: this.core.currentTid } as const; // still where it was
          if (!hit) return undefined;
          // From the latest image the search passed before the hit, not again from where it started.
          const near = this.nearestBefore(image, hit, marks);
          return this.core.images.hold(near.image, () => this.replayToHit(near.image, near.hit));
        });
        if (found) return found;
        if (!image || image.pos <= this.core.startAfter + 1) {
          this.core.restart();
          return { kind: 'beginning', tid: this.core.pid };
        }
        end = { pos: image.pos, tid: end.tid, regs: undefined };
        at?.tasks.dispose();
        at = undefined;
      }
    } finally {
      at?.tasks.dispose();
      this.core.images.unpin(pinned);
    }
  }

  /**
   * Runs backwards by one instruction of thread `tid` (by default, the one
   * that stopped; another one stands at the start of its run, so its
   * previous instruction made its previous event). Replay is
   * deterministic, so the thread's run up to here can be repeated and the
   * instruction before this one found by single-stepping. Single steps are
   * slow (tens of µs each), so they start from an anchor close to the
   * target: the last earlier visit of some instruction, counted with a
   * temporary breakpoint (visits are cheaper than steps). The first anchor
   * is the current instruction's own last visit; when the target is more
   * than SAMPLE_STEPS beyond it, an instruction of the loop those steps
   * were still in becomes the next anchor (see pickAnchor).
   */
  reverseStep(tid?: number): StopReason {
    // Another thread than the one that stopped stands where its previous event left it.
    const target = tid !== undefined && tid !== this.core.currentTid && this.core.session.liveTask(tid) ? { pos: this.core.session.position, tid, regs: undefined } : this.core.position();
    if (target.regs && !target.entry) {
      const fromMark = this.reverseStepFromMark(target);
      if (fromMark) return fromMark;
    }
    this.forward.clear();
    if (target.entry) return this.reverseStepIntoEvent({ ...target, pos: target.pos + 1, entry: false }); // to its syscall instruction
    if (!target.regs) return this.reverseStepIntoEvent(target);
    // In a function entered once in a long run, the call that entered it is a closer anchor than the last visit of the current instruction (call-site.ts).
    const regs = new Registers(target.regs);
    const call = callSiteBefore(regs, (address, length) => this.core.session.readMemory(target.tid, address, length));
    if (call !== undefined && call !== regs.ip) {
      const anchor = this.countVisits(target, call);
      if (anchor.count > 0) return this.reverseStepFrom(target, anchor);
    }
    return this.reverseStepFrom(target, this.countVisits(target, regs.ip));
  }

  /** A session at the anchor's last visit before the target (from its latest mark, when it has one). */
  private atAnchor(target: Position, anchor: Anchor): ReplaySession {
    const from = anchor.mark?.image ?? anchor.start;
    const s = from ? this.core.sessionFrom(from) : this.core.sessionBefore(target.pos, true);
    try {
      this.toVisit(s, target, anchor.address, anchor.count - (anchor.mark?.visits ?? 0));
    } catch (e) {
      s.close();
      throw e;
    }
    return s;
  }

  private reverseStepFrom(target: Position, first: Anchor): StopReason {
    let anchor = first;
    for (let round = 0; ; round++) {
      const s = this.atAnchor(target, anchor);
      let image: SessionImage | undefined;
      let steps: number | 'event' | StepSample;
      try {
        image = s.imageBlocker() ? undefined : s.image(); // to come back to the anchor at once
        steps = this.stepsTo(s, target, round < 8 ? SAMPLE_STEPS : Infinity);
      } catch (e) {
        image?.tasks.dispose();
        throw e;
      } finally {
        s.close();
      }
      if (typeof steps === 'object') {
        image?.tasks.dispose();
        anchor = this.countVisits(target, pickAnchor(steps));
        continue;
      }
      if (steps === 'event' || steps === 0) {
        image?.tasks.dispose();
        return this.reverseStepIntoEvent(target); // the instruction before is the one that made the thread's previous event
      }
      // Stop one instruction short, in the session we keep.
      try {
        if (image) this.core.disarm(this.core.replaceSession(this.core.sessionFrom(image)));
        else this.core.replaceSession(this.atAnchor(target, anchor));
      } finally {
        image?.tasks.dispose();
      }
      for (let i = 0; i < steps - 1; i++) this.core.session.stepInstruction(target.tid);
      this.core.rearm(this.core.session);
      this.core.midRun = true;
      this.core.currentTid = target.tid;
      return { kind: 'step', tid: target.tid };
    }
  }

  /** How often the target's thread reaches `address` in its run before the target (see visit-count.ts). */
  private countVisits(target: Position, address: bigint): Anchor {
    const at = { pos: target.pos, tid: target.tid, regs: target.regs! };
    // From the latest image of this run, if the target comes after it and so does a visit.
    const start = this.marks.latest(target.pos, target.tid);
    if (start) {
      const s = this.core.sessionFrom(start);
      try {
        this.core.disarm(s);
        const a = countVisits(s, this.core.pid, at, address, (x) => this.core.advance(x), this.marks);
        if (a.reached && a.count > 0) return { ...a, start };
      } finally {
        s.close();
      }
    }
    this.marks.clear();
    this.marks.latest(target.pos, target.tid);
    const s = this.core.sessionBefore(target.pos, true);
    try {
      this.core.disarm(s);
      return countVisits(s, this.core.pid, at, address, (x) => this.core.advance(x), this.marks);
    } finally {
      s.close();
    }
  }

  /**
   * Single-steps the target's thread in `s` until it stands at the target.
   * Returns the number of steps; 'event' if it reached its next event
   * instead; or after `limit` steps, where it went (see StepSample).
   */
  private stepsTo(s: ReplaySession, target: Position, limit: number): number | 'event' | StepSample {
    const task = s.liveTask(target.tid)!;
    const sample = new StepSample();
    for (let n = 0; n < limit; n++) {
      const here = task.regs();
      if (samePlace(here.raw, target.regs!)) return n;
      sample.add(here.ip);
      if (s.stepInstruction(target.tid).kind !== 'stepped') return 'event';
    }
    return sample;
  }

  /**
   * Replays session `s` (before the target) into the target's run and stops
   * at the thread's `count`-th visit of `address` (0: at the run's start),
   * or before the target itself; `onVisit` sees every visit before the
   * target. The debugger's breakpoints and watches are lifted (rearm()
   * puts them back).
   */
  toVisit(s: ReplaySession, target: Position, address: bigint, count: number, onVisit?: () => void): void {
    this.core.disarm(s);
    while (s.position < target.pos) this.core.advance(s);
    if (count === 0) return;
    const ip = new Registers(target.regs!).ip;
    s.setBreakpoint(this.core.pid, address);
    s.setBreakpoint(this.core.pid, ip);
    let seen = 0;
    // Visits before the target are counted inside the replay session, which stops only at the one we want.
    s.breakpointFilter = (tid, at, regs) => {
      if (tid !== target.tid) return false;
      if (at === ip && samePlace(regs.raw, target.regs!)) return true;
      if (at !== address) return false;
      onVisit?.();
      return ++seen === count;
    };
    try {
      this.core.advance(s);
    } finally {
      s.breakpointFilter = undefined;
      s.removeBreakpoint(this.core.pid, address);
      s.removeBreakpoint(this.core.pid, ip);
    }
  }

  /**
   * The target's thread stands at the start of its run (just after its
   * previous event): the instruction before is the one that made that event
   * (a syscall, a trapped rdtsc, a faulting instruction). Stands before it,
   * by replaying the event's record with a temporary breakpoint on that
   * instruction: the thread reaches it once in that run, just before the
   * event. An asynchronous signal ran no instruction: going back from its
   * handler stands where it was delivered (the event boundary before it).
   */
  private reverseStepIntoEvent(target: Position): StopReason {
    const prev = this.previousEventOf(target.tid, target.pos);
    if (!prev) return this.reverseContinueToBoundary(target);
    if (prev.record.kind === 'signal' && !prev.record.sync) {
      this.core.replaceSession(this.core.sessionBefore(prev.index, true));
      this.core.walkTo(prev.index);
      this.core.currentTid = target.tid;
      return { kind: 'step', tid: target.tid };
    }
    const s = this.core.sessionBefore(prev.index, true);
    let stop: StepResult;
    try {
      this.core.disarm(s);
      while (s.position < prev.index) this.core.advance(s);
      s.setBreakpoint(this.core.pid, prev.address);
      s.breakpointFilter = (tid, at) => tid === target.tid && at === prev.address;
      try {
        stop = this.core.advance(s);
      } finally {
        s.breakpointFilter = undefined;
        s.removeBreakpoint(this.core.pid, prev.address);
      }
    } catch (e) {
      s.close();
      throw e;
    }
    if (stop.kind !== 'breakpoint') {
      s.close();
      return this.reverseContinueToBoundary(target);
    }
    this.core.replaceSession(s);
    this.core.rearm(s);
    this.core.midRun = true;
    this.core.currentTid = target.tid;
    return { kind: 'step', tid: target.tid };
  }

  /**
   * Thread `tid`'s last event before event `pos` that an instruction of its
   * own made, with that instruction's address; undefined when there is none
   * after the debuggee's start, or it was an exec. For a syscall that
   * blocked (entry and exit recorded apart), the entry.
   */
  private previousEventOf(tid: number, pos: number): { index: number; record: TraceRecord; address: bigint } | undefined {
    let exitOf: number | undefined;
    for (let i = pos - 1; i > this.core.startAfter; i--) {
      const r = this.core.trace.recordAt(i);
      if (r.tid !== tid) continue;
      if (exitOf !== undefined && r.kind !== 'syscall-entry') continue;
      switch (r.kind) {
        case 'syscall-exit':
          exitOf = r.nr;
          continue;
        case 'syscall':
        case 'syscall-entry':
          return { index: i, record: r, address: new Registers(r.regs).ip - 2n }; // syscall, sysenter and int 0x80 are 2 bytes
        case 'rdtsc':
        case 'cpuid':
          return { index: i, record: r, address: new Registers(r.regs).ip };
        case 'signal':
          return { index: i, record: r, address: new Registers(r.regs).ip };
        default:
          return undefined;
      }
    }
    return undefined;
  }

  /** From an event boundary, going back lands at the previous boundary. */
  reverseContinueToBoundary(target: Position): StopReason {
    if (target.pos <= this.core.startAfter + 1) {
      this.core.restart();
      return { kind: 'beginning', tid: this.core.pid };
    }
    this.core.replaceSession(this.core.sessionBefore(target.pos - 1, true));
    this.core.walkTo(target.pos - 1);
    return { kind: 'step', tid: this.core.currentTid };
  }
}
