// `trr dump`, `trr ps` and `trr ls`: read-only views of traces.
import { statSync } from 'node:fs';
import { basename } from 'node:path';
import { Registers } from '../arch/registers.js';
import { formatSyscallArgs, formatSyscallResult } from '../syscalls/format.js';
import { nr, signalName, syscallName } from '../syscalls/names.js';
import { SYSCALLS } from '../syscalls/table.generated.js';
import type { SyscallBatchRecord, TraceRecord } from '../trace/format.js';
import { TRR_CALL_INIT, TRR_CALL_SIGNAL, decodeBufferedCalls } from '../syscallbuf/layout.js';
import { TraceReader, isTraceDir } from '../trace/trace-stream.js';
import { waitStatus } from '../native/native.js';
import { listTraceDirs, openTraceWithEvents, traceRoot } from './trace-dir.js';

type Out = (line: string) => void;

function statusText(status: number): string {
  if (waitStatus.exited(status)) return `exit ${waitStatus.exitCode(status)}`;
  return `killed by ${signalName(waitStatus.termSig(status))}`;
}

function syscallLine(nr: number, regs: Buffer | undefined, strings: readonly (readonly [number, string])[] | undefined): string {
  const info = SYSCALLS.get(nr);
  if (!info || !regs) return `${syscallName(nr)}(...)`;
  const args = new Registers(regs).syscallArgs();
  return `${info.name}(${formatSyscallArgs(info, args, strings ? new Map(strings) : undefined)})`;
}

/** One line per syscall of a syscall-batch record, as for traced ones, marked "buffered". */
export function describeBatch(r: SyscallBatchRecord): string[] {
  let calls;
  try {
    calls = decodeBufferedCalls(r.data, r.count);
  } catch (e) {
    return [`${r.count} buffered syscalls (undecodable: ${(e as Error).message})`];
  }
  return calls.map((c) => {
    const info = SYSCALLS.get(c.nr);
    const args = info ? `${info.name}(${formatSyscallArgs(info, c.args)})` : `${syscallName(c.nr)}(...)`;
    return `${args} = ${formatSyscallResult(syscallName(c.nr), c.result)} (buffered)`;
  });
}

export function describeRecord(r: TraceRecord, entryRegs?: Buffer): string {
  switch (r.kind) {
    case 'syscall-batch':
      return describeBatch(r).join('; ');
    case 'syscall':
      if (r.nr === TRR_CALL_INIT) {
        const a = new Registers(r.regs).syscallArgs();
        return `trr_syscall_buffer_init(0x${a[0]!.toString(16)}, ${a[1]}) = ${r.result === 0n ? '0 (buffering)' : `${formatSyscallResult('', r.result)} (buffering off)`}`;
      }
      if (r.nr === TRR_CALL_SIGNAL) return 'trr_signal_point() = 0 (a signal that arrived during the buffered call before it is delivered here)';
      return `${syscallLine(r.nr, r.regs, r.extra?.strings)} = ${formatSyscallResult(syscallName(r.nr), r.result)}${r.extra?.emulated ? ' (unsupported: answered by trr)' : ''}${r.extra?.child !== undefined ? ` [new ${r.extra.thread ? 'thread' : 'process'} ${r.extra.child}]` : ''}`;
    case 'syscall-entry':
      return `${syscallLine(r.nr, r.regs, undefined)} ... (blocked)`;
    case 'syscall-exit':
      return `... ${syscallName(r.nr)} resumed${entryRegs ? '' : ''} = ${formatSyscallResult(syscallName(r.nr), r.result)}${r.extra?.child !== undefined ? ` [new ${r.extra.thread ? 'thread' : 'process'} ${r.extra.child}]` : ''}`;
    case 'exec':
      return `execve(${JSON.stringify(r.path)}, ${JSON.stringify(r.argv)}) = 0${r.leaderTid !== undefined ? ` [goes on as thread ${r.leaderTid}]` : ''}`;
    case 'signal':
      return `signal ${signalName(r.signo)}${r.sync ? ' (fault)' : ''}: ${r.action}${r.noFrame ? ' (no room for its frame: SIGSEGV instead)' : ''}`;
    case 'rdtsc':
      return `rdtsc = 0x${(new Registers(r.after).get('rdx') << 32n | new Registers(r.after).get('rax')).toString(16)}`;
    case 'cpuid': {
      const [before, after] = [new Registers(r.regs), new Registers(r.after)];
      const hex = (reg: 'rax' | 'rbx' | 'rcx' | 'rdx') => `0x${(after.get(reg) & 0xffffffffn).toString(16)}`;
      return `cpuid(0x${(before.get('rax') & 0xffffffffn).toString(16)}, 0x${(before.get('rcx') & 0xffffffffn).toString(16)}) = ${(['rax', 'rbx', 'rcx', 'rdx'] as const).map(hex).join(' ')}`;
    }
    case 'ptrace-stop':
      return `${signalName(r.signo)} (fault): stopped for the program's own tracer`;
    case 'async-point':
      return `${r.reason === 'signal' ? 'stopped in user code for a signal' : 'preempted in user code'} at ip 0x${new Registers(r.regs).ip.toString(16)}${r.teleport ? ` (teleport: ${r.teleport.mem.length} memory ranges)` : ''}`;
    case 'exit':
      return `thread exit (${statusText(r.status)})`;
    case 'end':
      return `end of recording (${statusText(r.status)})`;
  }
}

function jsonSafe(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (Buffer.isBuffer(value)) return { bytes: value.length };
  if (Array.isArray(value)) return value.map(jsonSafe);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, jsonSafe(v)]));
  return value;
}

/** Process id of every recorded thread, from the exec and clone records. */
function processIds(reader: TraceReader): Map<number, number> {
  const tgid = new Map<number, number>();
  for (const { record: r } of reader.scan()) {
    if (!tgid.has(r.tid)) tgid.set(r.tid, r.tid);
    const extra = r.kind === 'syscall' || r.kind === 'syscall-exit' ? r.extra : undefined;
    if (extra?.child !== undefined) tgid.set(extra.child, extra.thread ? tgid.get(r.tid)! : extra.child);
    if (r.kind === 'exec') tgid.set(r.tid, r.tid);
  }
  return tgid;
}

export function dump(dir: string, json: boolean, out: Out): void {
  const reader = openTraceWithEvents(dir);
  const pids = processIds(reader);
  if (!json && reader.header.chaosSeed !== undefined) out(`(recorded in chaos mode, seed ${reader.header.chaosSeed}: \`trr record --chaos --seed ${reader.header.chaosSeed}\` repeats its scheduling choices)`);
  if (!json) out(`${'EVENT'.padStart(6)} ${'PID'.padStart(7)} ${'TID'.padStart(7)}  WHAT`);
  for (const { index, record } of reader.scan()) {
    if (json) {
      const r = record as unknown as Record<string, unknown>;
      const extra: Record<string, unknown> = {};
      if ('nr' in record) extra.syscall = syscallName(record.nr);
      if ('regs' in record && record.kind !== 'exec') extra.args = new Registers(record.regs).syscallArgs().map(String);
      if (record.kind === 'signal') extra.signal = signalName(record.signo);
      if (record.kind === 'syscall-batch') {
        try {
          extra.calls = decodeBufferedCalls(record.data, record.count).map((c) => ({ syscall: syscallName(c.nr), args: c.args.map(String), result: String(c.result), buffered: true }));
        } catch {
          // undecodable: the record's fields still show
        }
      }
      out(JSON.stringify({ index, pid: pids.get(record.tid), ...(jsonSafe(r) as object), ...extra }));
    } else if (record.kind === 'syscall-batch') {
      describeBatch(record).forEach((line, k) => out(`${`${index}.${k + 1}`.padStart(6)} ${String(pids.get(record.tid)).padStart(7)} ${String(record.tid).padStart(7)}  ${line}`));
    } else {
      out(`${String(index).padStart(6)} ${String(pids.get(record.tid)).padStart(7)} ${String(record.tid).padStart(7)}  ${describeRecord(record)}`);
    }
  }
  if (reader.incomplete && !json) out(`(the trace is incomplete: the recording was cut off after event ${reader.eventCount - 1})`);
}

interface ProcessRow {
  pid: number;
  ppid: number | undefined;
  exit: string;
  cmd: string;
}

const EXIT_GROUP = nr('exit_group');

/** rr's EXIT column: the exit code, or minus the signal that killed the process. */
function exitColumn(status: number): string {
  return waitStatus.exited(status) ? String(waitStatus.exitCode(status)) : String(-waitStatus.termSig(status));
}

/** The processes of a trace, as rr's `ps` shows them. */
export function processes(reader: TraceReader): ProcessRow[] {
  const rows = new Map<number, ProcessRow>();
  const tgidOf = new Map<number, number>();
  const groupExit = new Set<number>();
  const decided = new Set<number>();
  const row = (pid: number) => {
    let r = rows.get(pid);
    if (!r) rows.set(pid, (r = { pid, ppid: undefined, exit: 'none', cmd: '(forked without exec)' }));
    return r;
  };
  for (const { record: r } of reader.scan()) {
    const extra = r.kind === 'syscall' || r.kind === 'syscall-exit' ? r.extra : undefined;
    if (extra?.child !== undefined) {
      const parentPid = tgidOf.get(r.tid) ?? r.tid;
      if (extra.thread) tgidOf.set(extra.child, parentPid);
      else {
        tgidOf.set(extra.child, extra.child);
        row(extra.child).ppid = parentPid;
      }
    }
    // A vfork child's execve is recorded before its parent's vfork returns: the row may come first.
    if (r.kind === 'exec') row(tgidOf.get(r.tid) ?? r.tid).cmd = r.argv.join(' ');
    // A process's status is its group exit's (exit_group, or a fatal signal to any
    // thread), else its leader's own exit, even when other threads outlived it.
    const pid = tgidOf.get(r.tid) ?? r.tid;
    if (('nr' in r && r.nr === EXIT_GROUP) || (r.kind === 'signal' && r.action === 'terminate')) groupExit.add(pid);
    if (r.kind === 'exit' && rows.has(pid) && !decided.has(pid) && (r.tid === pid || groupExit.has(pid))) {
      rows.get(pid)!.exit = exitColumn(r.status);
      if (groupExit.has(pid)) decided.add(pid);
    }
    if (r.kind === 'end' && rows.has(r.tid)) rows.get(r.tid)!.exit = exitColumn(r.status);
  }
  return [...rows.values()];
}

export function ps(dir: string, out: Out): void {
  const rows = processes(openTraceWithEvents(dir));
  out('PID\tPPID\tEXIT\tCMD');
  for (const p of rows) out(`${p.pid}\t${p.ppid ?? '--'}\t${p.exit}\t${p.cmd}`);
}

export function ls(out: Out): void {
  const dirs = listTraceDirs().filter(isTraceDir);
  if (dirs.length === 0) {
    out(`no traces in ${traceRoot()}`);
    return;
  }
  out(`NAME\tCREATED\tSIZE\tCOMMAND`);
  for (const d of dirs.sort()) {
    try {
      const r = TraceReader.open(d);
      out(`${basename(d)}\t${r.header.created}\t${humanSize(r.sizeBytes())}\t${r.header.argv.join(' ')}${r.header.chaosSeed !== undefined ? `  [chaos seed ${r.header.chaosSeed}]` : ''}`);
    } catch (e) {
      out(`${basename(d)}\t?\t${humanSize(statSync(d).size)}\t(unreadable: ${(e as Error).message.slice(0, 60)})`);
    }
  }
}

function humanSize(n: number): string {
  if (n < 1024) return `${n}B`;
  if (n < 1 << 20) return `${(n / 1024).toFixed(1)}K`;
  return `${(n / (1 << 20)).toFixed(1)}M`;
}
