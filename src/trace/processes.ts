// Facts about the process tree of a recording, read from its records: where
// a process starts to exist and which program it runs. `trr replay -p/-f`
// and the debugger use them to pick the process to debug. Each is a forward
// pass over the trace that stops as soon as it knows the answer.
import { UsageError } from '../util/errors.js';
import type { ExecRecord, TraceRecord } from './format.js';
import type { TraceReader } from './trace-stream.js';

type Records = Pick<TraceReader, 'scan' | 'recordAt'>;

function createsProcess(r: TraceRecord, pid: number): boolean {
  return (r.kind === 'syscall' || r.kind === 'syscall-exit') && r.extra?.child === pid && !r.extra.thread;
}

/** Index of the clone/fork record that created process `pid`, or -1. */
export function forkRecordOf(trace: Records, pid: number): number {
  for (const { index, record } of trace.scan()) if (createsProcess(record, pid)) return index;
  return -1;
}

/**
 * Index of the record after which process `pid` exists as asked: its exec
 * record, or for 'fork' the record just before the child's first one (it
 * exists then, not having run yet). Throws when there is no such process.
 */
export function processStart(trace: Records, pid: number, from: 'exec' | 'fork'): number {
  let i = -1;
  if (from === 'exec') {
    for (const { index, record: r } of trace.scan()) {
      if (r.kind === 'exec' && r.tid === pid) {
        i = index;
        break;
      }
    }
  } else {
    // A vfork child runs (and execs) before its parent's vfork returns: its first record may precede the fork record.
    let first = -1;
    let forked = false;
    for (const { index, record: r } of trace.scan()) {
      if (first < 0 && r.tid === pid) first = index;
      forked ||= createsProcess(r, pid);
      if (forked && first >= 0) break;
    }
    if (forked) i = first - 1;
  }
  if (i < 0) throw new UsageError(`the trace has no process ${pid} that ${from === 'exec' ? 'execs' : 'was forked'} (see \`trr ps\`).`);
  return i;
}

/** The blob of the program process `pid` runs when it starts as asked: its own exec, or for a fork, the parent's last exec before it. */
export function executableOf(trace: Records, pid: number, from: 'exec' | 'fork' | undefined): string {
  let exe = (trace.recordAt(0) as ExecRecord).exe;
  if (!from) return exe;
  const start = processStart(trace, pid, from);
  const fork = forkRecordOf(trace, pid);
  const parent = fork >= 0 ? trace.recordAt(fork).tid : pid;
  for (const { index, record: r } of trace.scan()) {
    if (index > start) break;
    if (r.kind === 'exec' && (r.tid === pid || r.tid === parent)) exe = r.exe;
  }
  return exe;
}
