// The debuggee's forks and vforks as a debugger sees them (gdb's `catch
// fork` / `catch vfork`, and its detaching of the child, which it needs to be
// told of): the record that made a new process (not a thread) is found after
// it has been replayed. A fork is reported at the event boundary just after
// the parent's syscall (natively, while it is still inside it; the parent
// stands at the same instruction). A vfork parent is blocked in the kernel
// until its child execs or exits, so it is reported when the parent's vfork
// returns, and the front end reports the vfork as done at the next resume.
import { Registers } from '../arch/registers.js';
import { nr } from '../syscalls/names.js';
import { CLONE, cloneFlagsOf } from '../task/kernel-abi.js';
import type { AddressSpace } from '../task/task.js';
import type { TraceReader } from '../trace/trace-stream.js';

export interface ForkEvent {
  readonly kind: 'fork' | 'vfork';
  /** Recorded pid of the new process. */
  readonly child: number;
}

const CLONES = new Set(['fork', 'vfork', 'clone', 'clone3'].map((n) => nr(n)));

/** How far back the entry of a vfork that blocked is looked for (records). */
const ENTRY_SEARCH = 100_000;

/** The fork or vfork that record `index` finished in the parent (`mem`: its memory, for clone3's flags), if any. */
export function forkEventAt(trace: TraceReader, index: number, mem: AddressSpace): ForkEvent | undefined {
  const r = trace.recordAt(index);
  if ((r.kind !== 'syscall' && r.kind !== 'syscall-exit') || !CLONES.has(r.nr) || r.extra?.child === undefined || r.extra.thread) return undefined;
  if (r.result < 0n) return undefined;
  let regs: Buffer | undefined = r.kind === 'syscall' ? r.regs : undefined;
  for (let i = index - 1; !regs && i >= 0 && i > index - ENTRY_SEARCH; i--) {
    const e = trace.recordAt(i);
    if (e.tid === r.tid && e.kind === 'syscall-entry' && e.nr === r.nr) regs = e.regs;
  }
  let flags = 0n;
  try {
    flags = regs ? cloneFlagsOf(r.nr, new Registers(regs).syscallArgs(), mem) : r.nr === nr('vfork') ? CLONE.VFORK : 0n;
  } catch {
    flags = r.nr === nr('vfork') ? CLONE.VFORK : 0n; // clone3's arguments are gone: take it for a fork
  }
  return { kind: flags & CLONE.VFORK ? 'vfork' : 'fork', child: r.extra.child };
}
