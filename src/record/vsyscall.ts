// Calls through the legacy vsyscall page (0xffffffffff600000: gettimeofday,
// time, getcpu at offsets 0, 0x400, 0x800). The kernel emulates them: the
// seccomp filter sees the syscall, with the instruction pointer in the page,
// but no syscall-exit stop ever follows, and the thread returns straight to
// its caller. So the recorder answers the call itself at that seccomp stop
// (skipped, with the result and memory writes it computes here), and replay
// applies it like any syscall trr answered.
import { readFileSync } from 'node:fs';
import { gettimeofday, timeNow } from '../native/native.js';
import { nr } from '../syscalls/names.js';
import type { AddressSpace } from '../task/task.js';
import type { MemoryWrite } from '../trace/format.js';

export const VSYSCALL_START = 0xffffffffff600000n;
export const VSYSCALL_END = 0xffffffffff601000n;

export function inVsyscallPage(ip: bigint): boolean {
  return ip >= VSYSCALL_START && ip < VSYSCALL_END;
}

/** The CPU the thread last ran on (field 39 of /proc/TID/stat) and its NUMA node. */
function cpuOf(tid: number): [number, number] {
  const stat = readFileSync(`/proc/${tid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpu = Number(fields[36]);
  let node = 0;
  for (let n = 0; n < 64; n++) {
    try {
      const list = readFileSync(`/sys/devices/system/node/node${n}/cpulist`, 'utf8');
      if (inCpuList(list, cpu)) {
        node = n;
        break;
      }
    } catch {
      break;
    }
  }
  return [cpu, node];
}

function inCpuList(list: string, cpu: number): boolean {
  return list.trim().split(',').some((part) => {
    const [a, b] = part.split('-').map(Number);
    return b === undefined ? a === cpu : cpu >= a! && cpu <= b;
  });
}

/**
 * The result and memory writes of a vsyscall, or `fault`: a pointer the
 * kernel could not write, where it raises SIGSEGV (not reproduced).
 */
export function answerVsyscall(tid: number, mem: AddressSpace, nrv: number, args: readonly bigint[]): { result: bigint; mem: MemoryWrite[] } | { fault: string } {
  const out: MemoryWrite[] = [];
  const put = (addr: bigint, data: Buffer): boolean => {
    if (addr === 0n) return true;
    if (mem.readPartial(addr, data.length).length < data.length) return false;
    out.push([addr, data]);
    return true;
  };
  if (nrv === nr('gettimeofday')) {
    const { tv, tz } = gettimeofday();
    if (!put(args[0]!, tv) || !put(args[1]!, tz)) return { fault: `gettimeofday through the vsyscall page was given a pointer it cannot write` };
    return { result: 0n, mem: out };
  }
  if (nrv === nr('time')) {
    const now = timeNow();
    const b = Buffer.alloc(8);
    b.writeBigInt64LE(now);
    if (!put(args[0]!, b)) return { fault: `time through the vsyscall page was given a pointer it cannot write` };
    return { result: now, mem: out };
  }
  if (nrv === nr('getcpu')) {
    const [cpu, node] = cpuOf(tid);
    const c = Buffer.alloc(4);
    c.writeUInt32LE(cpu);
    const n = Buffer.alloc(4);
    n.writeUInt32LE(node);
    if (!put(args[0]!, c) || !put(args[1]!, n)) return { fault: `getcpu through the vsyscall page was given a pointer it cannot write` };
    return { result: 0n, mem: out };
  }
  return { fault: `the vsyscall page has no syscall ${nrv}` };
}
