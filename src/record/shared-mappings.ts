// Files a recorded process maps MAP_SHARED. When the process writes such a
// file with write/pwrite, the kernel changes the mapped memory too; replay
// maps private copies and does not run the write, so the recorder adds the
// mapped bytes the write touched to that syscall's memory writes.
import { readFileSync, statSync } from 'node:fs';
import type { AddressSpace, Task } from '../task/task.js';
import type { Range } from '../syscalls/semantics.js';
import { SYSCALL_NUMBERS } from '../syscalls/table.generated.js';

interface SharedMapping {
  readonly start: bigint;
  readonly end: bigint;
  readonly fileOffset: bigint;
  readonly dev: number;
  readonly ino: number;
}

const POSITIONED = new Set(['pwrite64', 'pwritev', 'pwritev2'].map((n) => SYSCALL_NUMBERS[n]!));

export class SharedFileMappings {
  private readonly byMemory = new Map<AddressSpace, SharedMapping[]>();

  add(task: Task, start: bigint, mmapArgs: readonly bigint[]): void {
    const fd = Number(BigInt.asIntN(32, mmapArgs[4]!));
    let st;
    try {
      st = statSync(`/proc/${task.tid}/fd/${fd}`);
    } catch {
      return;
    }
    const list = this.byMemory.get(task.mem) ?? [];
    list.push({ start, end: start + mmapArgs[1]!, fileOffset: mmapArgs[5]!, dev: st.dev, ino: st.ino });
    this.byMemory.set(task.mem, list);
  }

  remove(mem: AddressSpace, start: bigint, len: bigint): void {
    const list = this.byMemory.get(mem);
    if (list) this.byMemory.set(mem, list.filter((m) => m.end <= start || m.start >= start + len));
  }

  inherit(parent: AddressSpace, child: AddressSpace): void {
    const list = this.byMemory.get(parent);
    if (list) this.byMemory.set(child, [...list]);
  }

  /** Memory ranges changed by a successful write-family syscall of `result` bytes. */
  writtenMemory(task: Task, nr: number, args: readonly bigint[], result: bigint): Range[] {
    const list = this.byMemory.get(task.mem);
    if (!list || list.length === 0) return [];
    const fd = Number(BigInt.asIntN(32, args[0]!));
    let st;
    try {
      st = statSync(`/proc/${task.tid}/fd/${fd}`);
    } catch {
      return [];
    }
    const maps = list.filter((m) => m.dev === st.dev && m.ino === st.ino);
    if (maps.length === 0) return [];
    let fileStart: bigint;
    if (POSITIONED.has(nr)) fileStart = args[3]!; // pwrite64's offset; pwritev's low half (files under 4 GiB)
    else {
      const pos = /^pos:\s*(\d+)/m.exec(readFileSync(`/proc/${task.tid}/fdinfo/${fd}`, 'utf8'));
      if (!pos) return [];
      fileStart = BigInt(pos[1]!) - result;
    }
    const fileEnd = fileStart + result;
    const out: Range[] = [];
    for (const m of maps) {
      const lo = fileStart > m.fileOffset ? fileStart : m.fileOffset;
      const hi = fileEnd < m.fileOffset + (m.end - m.start) ? fileEnd : m.fileOffset + (m.end - m.start);
      if (hi > lo) out.push([m.start + (lo - m.fileOffset), Number(hi - lo)]);
    }
    return out;
  }
}
