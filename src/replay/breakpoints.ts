// Software breakpoints in replayed processes: an int3 byte written over the
// instruction, the original byte kept to hide it from the debugger's memory
// reads and to step over it. Per address space, since a breakpoint belongs
// to one process's code.
import type { AddressSpace } from '../task/task.js';

const INT3 = 0xcc;
const PAGE = 4096n;

function pageRound(n: bigint): bigint {
  return (n + PAGE - 1n) & ~(PAGE - 1n);
}

export class Breakpoints {
  private readonly spaces = new Map<AddressSpace, Map<bigint, number>>();

  private of(mem: AddressSpace): Map<bigint, number> {
    let m = this.spaces.get(mem);
    if (!m) this.spaces.set(mem, (m = new Map()));
    return m;
  }

  /** Addresses where an int3 is in `mem` now. */
  inserted(mem: AddressSpace): bigint[] {
    return [...(this.spaces.get(mem)?.keys() ?? [])];
  }

  has(mem: AddressSpace, address: bigint): boolean {
    return this.spaces.get(mem)?.has(address) ?? false;
  }

  /** Breakpoints asked for where nothing is mapped yet (a library not loaded yet). */
  private readonly pending = new Map<AddressSpace, Set<bigint>>();

  add(mem: AddressSpace, address: bigint): void {
    const m = this.of(mem);
    if (m.has(address)) return;
    const original = mem.readPartial(address, 1)[0];
    if (original === undefined) {
      if (!this.pending.has(mem)) this.pending.set(mem, new Set());
      this.pending.get(mem)!.add(address);
      return;
    }
    mem.write(address, Buffer.from([INT3]));
    m.set(address, original);
  }

  /** Inserts the pending breakpoints whose memory is mapped now. */
  insertPending(mem: AddressSpace): void {
    const p = this.pending.get(mem);
    if (!p || p.size === 0) return;
    this.pending.delete(mem);
    for (const a of p) this.add(mem, a);
  }

  /**
   * The program mapped [start, start+length) afresh (mmap, MAP_FIXED over
   * code included: the dynamic loader maps a library whole, then its
   * segments over it): the int3 bytes there are gone, so write them again,
   * and insert those that waited for this memory.
   */
  mapped(mem: AddressSpace, start: bigint, length: bigint): void {
    const end = start + pageRound(length);
    const m = this.spaces.get(mem);
    for (const a of [...(m?.keys() ?? [])]) {
      if (a < start || a >= end) continue;
      m!.delete(a);
      this.add(mem, a);
    }
    this.insertPending(mem);
  }

  /** The program unmapped [start, start+length): its breakpoints wait for the memory to come back. */
  unmapped(mem: AddressSpace, start: bigint, length: bigint): void {
    const end = start + pageRound(length);
    const m = this.spaces.get(mem);
    for (const a of [...(m?.keys() ?? [])]) {
      if (a < start || a >= end) continue;
      m!.delete(a);
      if (!this.pending.has(mem)) this.pending.set(mem, new Set());
      this.pending.get(mem)!.add(a);
    }
  }

  remove(mem: AddressSpace, address: bigint): void {
    this.pending.get(mem)?.delete(address);
    const m = this.spaces.get(mem);
    const original = m?.get(address);
    if (original === undefined) return;
    mem.write(address, Buffer.from([original]));
    m!.delete(address);
  }

  /** Puts the original byte back for a moment (to execute it); returns whether there was a breakpoint. */
  lift(mem: AddressSpace, address: bigint): boolean {
    const original = this.spaces.get(mem)?.get(address);
    if (original === undefined) return false;
    mem.write(address, Buffer.from([original]));
    return true;
  }

  restore(mem: AddressSpace, address: bigint): void {
    if (this.has(mem, address)) mem.write(address, Buffer.from([INT3]));
  }

  /** After execve the process has new code: write the breakpoints into it again. */
  reinsert(mem: AddressSpace): void {
    const m = this.spaces.get(mem);
    if (!m) return;
    const addresses = [...m.keys()];
    m.clear();
    for (const a of addresses) this.add(mem, a);
  }

  /** Memory contents as the program sees them, with our int3 bytes replaced by the originals. */
  hide(mem: AddressSpace, address: bigint, data: Buffer): Buffer {
    const m = this.spaces.get(mem);
    if (!m) return data;
    const out = Buffer.from(data);
    for (const [a, original] of m) if (a >= address && a < address + BigInt(out.length)) out[Number(a - address)] = original;
    return out;
  }
}
