// Counting how often a thread reaches an instruction before a position (for
// reverse-stepi, see ReverseExecution.reverseStep in reverse.ts): a temporary breakpoint is hit at
// every visit inside the replay session, which only counts it. Every
// MARK_EVERY visits the session stops and is imaged, so that reaching the
// last visit afterwards replays from the latest such image (at most
// MARK_EVERY visits) instead of counting all of them again. The images stay
// (RunMarks) while the debugger steps backwards in the same run: the next
// reverse-stepi counts from the latest one, when the target comes after it.
import { Registers } from '../arch/registers.js';
import type { ReplaySession, SessionImage, StepResult } from './replay-session.js';

/** Visits between two images taken while counting. */
export const MARK_EVERY = 4096;
/** Images kept for one run (the latest ones). */
const MAX_MARKS = 16;

/** Same place in the execution: equal registers, but for the CPU's resume and trap flags (a fault sets RF, a trap does not). */
export function samePlace(a: Buffer, b: Buffer): boolean {
  const x = new Registers(a);
  const y = new Registers(b);
  for (const r of [x, y]) r.set('eflags', r.get('eflags') & ~0x10100n);
  return x.equals(y);
}

export interface VisitTarget {
  readonly pos: number;
  readonly tid: number;
  readonly regs: Buffer;
}

/**
 * `count` visits of `address` before the target, counted from `start` (an
 * image in the target's run) or from the checkpoint before the run; `mark`:
 * an image at its `visits`-th one. The images belong to RunMarks.
 */
export interface Anchor {
  readonly address: bigint;
  readonly count: number;
  readonly start?: SessionImage;
  readonly mark?: { readonly visits: number; readonly image: SessionImage };
}

/** Images taken while counting visits in one thread's run (between two events), in run order. */
export class RunMarks {
  private run: string | undefined;
  private images: SessionImage[] = [];

  /** The latest image of the run of thread `tid` before event `pos` (forgets those of another run). */
  latest(pos: number, tid: number): SessionImage | undefined {
    if (this.run !== `${pos}:${tid}`) this.clear();
    this.run = `${pos}:${tid}`;
    return this.images[this.images.length - 1];
  }

  add(image: SessionImage): void {
    this.images.push(image);
    if (this.images.length > MAX_MARKS) this.images.shift()!.tasks.dispose();
  }

  clear(): void {
    for (const im of this.images.splice(0)) im.tasks.dispose();
  }
}

/**
 * Replays `s` (standing before the target's record, its debugger
 * breakpoints lifted) to the target, counting the target thread's visits of
 * `address` (of process `pid`) before it.
 */
export function countVisits(s: ReplaySession, pid: number, target: VisitTarget, address: bigint, advance: (s: ReplaySession) => StepResult, marks: RunMarks): Anchor & { reached: boolean } {
  while (s.position < target.pos) advance(s);
  const ip = new Registers(target.regs).ip;
  s.setBreakpoint(pid, address);
  s.setBreakpoint(pid, ip);
  let seen = 0;
  let mark: Anchor['mark'];
  let reached = false;
  s.breakpointFilter = (tid, at, regs) => {
    if (tid !== target.tid) return false;
    if (at === ip && samePlace(regs.raw, target.regs)) return true;
    if (at !== address) return false;
    return ++seen % MARK_EVERY === 0;
  };
  try {
    for (;;) {
      const r = advance(s);
      if (r.kind !== 'breakpoint') break;
      if (r.tid === target.tid && samePlace(s.liveTask(r.tid)!.regs().raw, target.regs)) {
        reached = true;
        break;
      }
      if (s.imageBlocker()) continue;
      mark = { visits: seen, image: s.image() };
      marks.add(mark.image);
    }
  } finally {
    s.breakpointFilter = undefined;
    s.removeBreakpoint(pid, address);
    s.removeBreakpoint(pid, ip);
  }
  return { address, count: seen, mark, reached };
}

/**
 * Where a thread went in a run of single steps: for each address, how often
 * it arrived there and at which step it last did. A step that stays at the
 * same address (one iteration of a `rep` string instruction) is no new
 * arrival: a breakpoint there is hit once per iteration too, so such an
 * address would cost as many counted visits as the string has bytes.
 */
export class StepSample {
  readonly arrivals = new Map<bigint, { count: number; last: number }>();
  steps = 0;
  private prev: bigint | undefined;

  add(ip: bigint): void {
    const n = this.steps++;
    if (ip === this.prev) return;
    this.prev = ip;
    const a = this.arrivals.get(ip);
    if (a) {
      a.count++;
      a.last = n;
    } else this.arrivals.set(ip, { count: 1, last: n });
  }
}

/**
 * The next anchor after a sample of steps that did not reach the target:
 * an instruction of a loop the thread was still in when the sample ended
 * (arrived at twice or more, the last time within about one of its periods
 * of the end), so that its last visit before the target is close to it.
 * Of those, the one arrived at least often: its visits are counted from the
 * start of the run, two stops each, so an inner loop's instruction (many
 * arrivals per iteration of the loop around it) costs more to count for no
 * closer anchor. Without such a loop, the most frequent address.
 */
export function pickAnchor(sample: StepSample): bigint {
  let best: { ip: bigint; count: number; last: number } | undefined;
  let most: { ip: bigint; count: number } | undefined;
  for (const [ip, a] of sample.arrivals) {
    if (!most || a.count > most.count) most = { ip, count: a.count };
    if (a.count < 2) continue;
    const period = sample.steps / a.count;
    if (sample.steps - a.last > 1.5 * period) continue; // the thread had left that loop
    if (!best || a.count < best.count || (a.count === best.count && a.last > best.last)) best = { ip, ...a };
  }
  if (!best && !most) throw new Error('internal error: an empty sample of steps');
  return (best ?? most)!.ip;
}
