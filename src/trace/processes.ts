// Facts about the process tree of a recording, read from its records: where
// a process starts to exist and which program it runs. `trr replay -p/-f`
// and the debugger use them to pick the process to debug.
import { UsageError } from '../util/errors.js';
import type { ExecRecord, TraceRecord } from './format.js';

/** Index of the clone/fork record that created process `pid`, or -1. */
export function forkRecordOf(records: readonly TraceRecord[], pid: number): number {
  return records.findIndex((r) => (r.kind === 'syscall' || r.kind === 'syscall-exit') && r.extra?.child === pid && !r.extra.thread);
}

/**
 * Index of the record after which process `pid` exists as asked: its exec
 * record, or for 'fork' the record just before the child's first one (it
 * exists then, not having run yet). Throws when there is no such process.
 */
export function processStart(records: readonly TraceRecord[], pid: number, from: 'exec' | 'fork'): number {
  const forked = forkRecordOf(records, pid) >= 0;
  const i = from === 'exec' ? records.findIndex((r) => r.kind === 'exec' && r.tid === pid) : forked ? records.findIndex((r) => r.tid === pid) - 1 : -1;
  if (i < 0) throw new UsageError(`the trace has no process ${pid} that ${from === 'exec' ? 'execs' : 'was forked'} (see \`trr ps\`).`);
  return i;
}

/** The blob of the program process `pid` runs when it starts as asked: its own exec, or for a fork, the parent's last exec before it. */
export function executableOf(records: readonly TraceRecord[], pid: number, from: 'exec' | 'fork' | undefined): string {
  if (!from) return (records[0] as ExecRecord).exe;
  const start = processStart(records, pid, from);
  const fork = forkRecordOf(records, pid);
  const parent = fork >= 0 ? records[fork]!.tid : pid;
  for (let i = start; i >= 0; i--) {
    const r = records[i]!;
    if (r.kind === 'exec' && (r.tid === pid || r.tid === parent)) return r.exe;
  }
  return (records[0] as ExecRecord).exe;
}
