// Which recorded thread runs user code, and for how long. trr runs one
// thread at a time (see record-session.ts); the scheduler answers three
// questions for the record session:
//
// - at a scheduling point of the running thread (the exit of one of its
//   traced syscalls, a stop trr asked for), does it give way to a ready
//   thread?
// - when no thread runs, which ready thread goes next?
// - how long may a thread run user code without a scheduling point while
//   others wait, before it is preempted at an asynchronous point?
//
// The default scheduler is round-robin with 20 ms slices, preempting after
// 10 ms without a scheduling point. The chaos scheduler (`trr record
// --chaos`, rr's chaos mode) draws these decisions from a pseudo-random
// generator seeded by --seed: slices measured in scheduling points rather
// than milliseconds, so that the same seed on the same program gives the
// same schedule wherever the program's own inputs (its blocking syscalls'
// timing, signals from outside) allow; random thread priorities, redrawn
// from time to time, decide who goes next; a new thread runs before its
// creator half the time; syscall-free stretches are preempted after a
// random 2-20 ms. See docs/ARCHITECTURE.md, "Chaos mode".
import type { RecTask } from './rec-task.js';

export interface Scheduler {
  /** The seed of a chaos scheduler. */
  readonly seed?: number;
  /** How often (ms) the session looks at a thread that runs user code while others wait. */
  readonly pollMs: number;
  /** At a scheduling point of the running thread t: whether it gives way, when another thread is ready. */
  switchAway(t: RecTask, yieldNow: boolean): boolean;
  /** Right after t created a thread or process: whether the new one runs first. */
  childFirst(): boolean;
  /** The ready thread to run next (undefined: none is ready); `previous` gave way and runs again only when it is the only one. */
  pick(tasks: Iterable<RecTask>, previous: RecTask | undefined): RecTask | undefined;
  /** Whether a thread that has run user code for `sinceSlice` ms of its slice, `sinceStop` ms since its last scheduling point, is preempted (others wait). */
  preemptDue(sinceSlice: number, sinceStop: number): boolean;
  /** After pick, or when a slice ran out with nobody else ready: a new slice starts. */
  startSlice(now: number): void;
  /** When the current slice started (ms). */
  readonly sliceStart: number;
}

/** A slice lasts this long at most (checked at scheduling points). */
const SLICE_MS = 20;
/** A thread that runs without syscalls while others wait is preempted after this slice. */
const PREEMPT_SLICE_MS = 10;

/** Round-robin over the threads in creation order, 20 ms slices. */
export class RoundRobin implements Scheduler {
  readonly pollMs = 10;
  sliceStart = 0;
  private cursor = 0;

  switchAway(_t: RecTask, yieldNow: boolean): boolean {
    return yieldNow || Date.now() - this.sliceStart > SLICE_MS;
  }

  childFirst(): boolean {
    return false;
  }

  pick(tasks: Iterable<RecTask>): RecTask | undefined {
    const list = [...tasks];
    for (let i = 0; i < list.length; i++) {
      const t = list[(this.cursor + i) % list.length]!;
      if (t.state === 'ready') {
        this.cursor = (this.cursor + i + 1) % Math.max(1, list.length);
        return t;
      }
    }
    return undefined;
  }

  preemptDue(sinceSlice: number): boolean {
    return sinceSlice >= PREEMPT_SLICE_MS;
  }

  startSlice(now: number): void {
    this.sliceStart = now;
  }
}

/** mulberry32: a small, fast 32-bit generator; plenty for scheduling decisions, and the same on every machine. */
export class Prng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** A uniform 32-bit unsigned integer. */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return (z ^ (z >>> 14)) >>> 0;
  }
  /** A uniform integer in [lo, hi]. */
  between(lo: number, hi: number): number {
    return lo + (this.next() % (hi - lo + 1));
  }
  /** A uniform number in [0, 1). */
  unit(): number {
    return this.next() / 2 ** 32;
  }
}

/** The longest chaos slice, in scheduling points. */
const MAX_SLICE_POINTS = 256;
/** Thread priorities are 0..PRIORITY_LEVELS-1; the highest ready one runs next. */
const PRIORITY_LEVELS = 4;

export class ChaosScheduler implements Scheduler {
  readonly pollMs = 2;
  sliceStart = 0;
  private readonly rng: Prng;
  /** Scheduling points left in the current slice. */
  private budget = 0;
  /** How long the current slice may run without a scheduling point before it is preempted (ms). */
  private preemptMs = PREEMPT_SLICE_MS;
  private readonly priority = new WeakMap<RecTask, number>();
  /** Picks until every priority is drawn again. */
  private untilRedraw = 0;

  constructor(readonly seed: number) {
    this.rng = new Prng(seed);
    this.untilRedraw = this.rng.between(8, 64);
  }

  /**
   * A slice of 1 to 256 scheduling points: half the slices are short, 1 to
   * 4 points (switches in the middle of short sequences of syscalls, where
   * races hide), the others log-uniform from 1 to 256 (some threads run far
   * ahead of the others).
   */
  private drawBudget(): number {
    if ((this.rng.next() & 1) === 0) return this.rng.between(1, 4);
    return Math.max(1, Math.floor(2 ** (this.rng.unit() * Math.log2(MAX_SLICE_POINTS))));
  }

  switchAway(_t: RecTask, yieldNow: boolean): boolean {
    if (yieldNow) return true;
    if (--this.budget > 0) return false;
    this.budget = this.drawBudget(); // the slice goes on with a new budget if nobody else is ready
    return true;
  }

  childFirst(): boolean {
    return (this.rng.next() & 1) === 1;
  }

  private priorityOf(t: RecTask): number {
    let p = this.priority.get(t);
    if (p === undefined) this.priority.set(t, (p = this.rng.between(0, PRIORITY_LEVELS - 1)));
    return p;
  }

  pick(tasks: Iterable<RecTask>, previous: RecTask | undefined): RecTask | undefined {
    const all = [...tasks];
    if (--this.untilRedraw <= 0) {
      for (const t of all) this.priority.set(t, this.rng.between(0, PRIORITY_LEVELS - 1));
      this.untilRedraw = this.rng.between(8, 64);
    }
    let ready = all.filter((t) => t.state === 'ready');
    if (ready.length > 1 && previous) ready = ready.filter((t) => t !== previous);
    if (ready.length === 0) return undefined;
    const top = Math.max(...ready.map((t) => this.priorityOf(t)));
    const best = ready.filter((t) => this.priorityOf(t) === top);
    return best.length === 1 ? best[0] : best[this.rng.between(0, best.length - 1)];
  }

  preemptDue(_sinceSlice: number, sinceStop: number): boolean {
    return sinceStop >= this.preemptMs;
  }

  startSlice(now: number): void {
    this.sliceStart = now;
    this.budget = this.drawBudget();
    this.preemptMs = this.rng.between(2, 20);
  }
}
