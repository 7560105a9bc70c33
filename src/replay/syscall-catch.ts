// Which system calls the debugger stops at (gdb's `catch syscall`, sent as
// QCatchSyscalls), and where in the trace their entries and returns are.
//
// A syscall's entry is inside its record: the thread runs its user code up
// to the syscall instruction and stands at the entry stop (ReplaySession
// holdAtEntry), with the record not applied yet. Its return is the event
// boundary after the record that finishes it. A syscall that blocked while
// other threads ran has two records: the entry is in the first, the return
// after the second. An execve's entry is in its exec record. The calls the
// preload library makes to trr (numbers from 2000) are not the program's and
// are never reported; buffered syscalls (src/preload) never enter the kernel
// in replay and are not reported either: bufferedCaught() counts them, so
// that the front end can say so when a catchpoint is set.
import { Registers } from '../arch/registers.js';
import { decodeBufferedCalls } from '../syscallbuf/layout.js';
import type { TraceRecord } from '../trace/format.js';
import type { TraceReader } from '../trace/trace-stream.js';

/** Per trace: how many calls of each syscall ran in the syscall buffer. */
const bufferedCounts = new WeakMap<TraceReader, ReadonlyMap<number, number>>();

function bufferedIn(trace: TraceReader): ReadonlyMap<number, number> {
  let counts = bufferedCounts.get(trace);
  if (counts) return counts;
  const m = new Map<number, number>();
  for (let i = 0; i < trace.eventCount; i++) {
    const r = trace.recordAt(i);
    if (r.kind !== 'syscall-batch') continue;
    try {
      for (const c of decodeBufferedCalls(r.data, r.count)) m.set(c.nr, (m.get(c.nr) ?? 0) + 1);
    } catch {
      // a bad batch stops replay there with its own error
    }
  }
  bufferedCounts.set(trace, (counts = m));
  return counts;
}

/** trr's own calls from the preload library (TRR_CALL_INIT and up). */
const FIRST_TRR_CALL = 2000;

export class SyscallCatch {
  /** undefined: no catchpoint; 'all': every syscall; else the numbers to stop at. */
  private caught: ReadonlySet<number> | 'all' | undefined;

  /** gdb's QCatchSyscalls: off (undefined), every syscall ('all'), or these numbers. */
  set(spec: readonly number[] | 'all' | undefined): void {
    this.caught = spec === undefined || spec === 'all' ? spec : new Set(spec);
  }

  get active(): boolean {
    return this.caught !== undefined;
  }

  /** What is caught, as a string: equal strings, the same catchpoints. */
  get key(): string {
    return this.caught === undefined || this.caught === 'all' ? String(this.caught) : [...this.caught].sort((a, b) => a - b).join(',');
  }

  private wants(nr: number): boolean {
    if (this.caught === undefined || nr < 0 || nr >= FIRST_TRR_CALL) return false;
    return this.caught === 'all' || this.caught.has(nr);
  }

  /** The caught syscalls that ran in the syscall buffer in `trace` (number -> calls): replay does not stop at those. */
  bufferedCaught(trace: TraceReader): Map<number, number> {
    const out = new Map<number, number>();
    if (this.caught === undefined) return out;
    for (const [n, count] of bufferedIn(trace)) if (this.wants(n)) out.set(n, count);
    return out;
  }

  /** The number of the caught syscall whose entry is in record `r`, if any. */
  entryIn(r: TraceRecord | undefined): number | undefined {
    const n = syscallEntered(r);
    return n !== undefined && this.wants(n) ? n : undefined;
  }

  /** The number of the caught syscall that returns at the end of record `r`, if any. */
  returnAfter(r: TraceRecord | undefined): number | undefined {
    if (!r) return undefined;
    const n = r.kind === 'syscall' || r.kind === 'syscall-exit' ? r.nr : r.kind === 'exec' ? new Registers(r.entryRegs).syscallNo : undefined;
    return n !== undefined && this.wants(n) ? n : undefined;
  }
}

/** The syscall whose entry record `r` is (whether caught or not). */
export function syscallEntered(r: TraceRecord | undefined): number | undefined {
  if (!r) return undefined;
  if (r.kind === 'syscall' || r.kind === 'syscall-entry') return r.nr;
  if (r.kind === 'exec') return new Registers(r.entryRegs).syscallNo;
  return undefined;
}
