// Images of the debugger's own session taken as it goes forwards inside one
// thread's run between two events (for reverse-stepi, see
// ReverseExecution.reverseStep in reverse.ts): where a forward resume
// starts when there is no image of that run yet (the stop it starts from:
// a breakpoint or watchpoint hit, a reverse-continue's stop), and every
// STEP_MARK_EVERY single steps. Not where every continue stops (a fork
// each: a conditional breakpoint going forwards stops at every hit): the
// stop is imaged when the debugger goes on from it, once per run. Without an instruction counter, the
// instruction before a position inside a loop is otherwise found by
// counting the loop's iterations since the run started, one ptrace stop
// each (minutes after tens of millions of iterations); from an image taken
// on the way to the position, a few single steps find it.
//
// Every image kept stands at or before the debugger's position in the same
// run, because the session went forwards from it: the marks are forgotten
// whenever the debugger moves otherwise (backwards, to another place in
// time), except by reverse-stepi's own use of them, which keeps the ones at
// or before where it lands (keepUpTo). An image of another run is useless
// (single steps do not cross events) and is dropped.
import type { ReplaySession, SessionImage } from './replay-session.js';

/** Forward single steps of the debugger's session between two marks. */
export const STEP_MARK_EVERY = 1000;
/** Images kept (the latest ones). */
const MAX_MARKS = 8;

export interface ForwardMark {
  readonly image: SessionImage;
  /** The thread's registers there. */
  readonly regs: Buffer;
}

export class ForwardMarks {
  private run: string | undefined;
  private marks: ForwardMark[] = [];
  private steps = 0;

  /** Whether there is a mark in thread `tid`'s run before event `pos`. */
  has(pos: number, tid: number): boolean {
    return this.run === `${pos}:${tid}` && this.marks.length > 0;
  }

  /** Images session `s`, standing in thread `tid`'s run before event `pos` with registers `regs`, unless it cannot be imaged there. */
  add(s: ReplaySession, pos: number, tid: number, regs: Buffer): void {
    if (this.run !== `${pos}:${tid}`) this.clear();
    this.run = `${pos}:${tid}`;
    this.steps = 0;
    const latest = this.marks[this.marks.length - 1];
    if ((latest && latest.regs.equals(regs)) || s.imageBlocker()) return;
    this.marks.push({ image: s.image(), regs: Buffer.from(regs) });
    if (this.marks.length > MAX_MARKS) this.marks.shift()!.image.tasks.dispose();
  }

  /** One forward single step of the debugger's session: true when a mark is due. */
  stepped(): boolean {
    return ++this.steps >= STEP_MARK_EVERY;
  }

  /** The marks in thread `tid`'s run before event `pos`, the latest first. */
  candidates(pos: number, tid: number): ForwardMark[] {
    return this.run === `${pos}:${tid}` ? [...this.marks].reverse() : [];
  }

  /** Drops the marks taken after `mark` (the debugger now stands between it and them). */
  keepUpTo(mark: ForwardMark): void {
    const i = this.marks.indexOf(mark);
    for (const m of this.marks.splice(i + 1)) m.image.tasks.dispose();
  }

  clear(): void {
    for (const m of this.marks.splice(0)) m.image.tasks.dispose();
    this.run = undefined;
    this.steps = 0;
  }
}
