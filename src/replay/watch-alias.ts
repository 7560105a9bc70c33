// Watched pages shared with hot data. A write watchpoint protects its page,
// so every store to that page faults, also the ones that cannot touch the
// watched range: a loop writing a counter next to a watched global faults on
// every iteration, and each fault costs several ptrace stops (tens of µs).
// Going backwards over a few seconds of such a loop took many minutes.
//
// At the first fault of an instruction that writes a fixed address (x86-64
// RIP-relative operand, see fixed-store.ts) outside every watched range,
// trr makes that instruction stop faulting without losing any watched write:
// the page's contents move to a memfd mapped twice in the replayed process,
// at the page itself (still protected, so all other stores still fault) and
// at an alias elsewhere (writable); the instruction's displacement is
// rewritten to reach the same bytes through the alias. Its stores then run
// at native speed, and land in the same memory, which the program and trr
// read through the page as before. Fixed-address stores can only write
// where they were seen to write, so nothing that may touch a watched range
// is ever redirected.
//
// The replayed process must not notice: trr's reads of its memory show the
// original instruction bytes, and every alias is dropped (the page private
// again, the instructions restored) before anything a shared page would
// change: a process image (fork), a real syscall that creates a process or
// changes the memory map, and when the page is no longer watched.
import { nr } from '../syscalls/names.js';
import type { AddressSpace } from '../task/task.js';
import { fixedStoreAt } from './fixed-store.js';
import { PAGE, type WatchSet } from './watchpoints.js';

const PROT_READ = 1n;
const PROT_WRITE = 2n;
const MAP_SHARED = 0x1n;
const MAP_PRIVATE = 0x2n;
const MAP_FIXED = 0x10n;
const MAP_ANONYMOUS = 0x20n;
const MFD_CLOEXEC = 1n;
/** Disabled with TRR_NO_WATCH_ALIAS=1 (every store to a watched page is then stepped over one by one). */
const ENABLED = process.env.TRR_NO_WATCH_ALIAS !== '1';

interface Alias {
  readonly page: bigint;
  readonly alias: bigint;
  /** address of a rewritten displacement -> its original 4 bytes */
  readonly patches: Map<bigint, Buffer>;
}

/** What watch-alias needs of the replay's task control, for one stopped task of the process. */
export interface AliasHost {
  inject(nrv: number, args: readonly bigint[]): bigint;
  readonly mem: AddressSpace;
  /** A readable address of a NUL byte in the process (for memfd_create's name). */
  readonly emptyString: bigint | undefined;
}

export class WatchAliases {
  private readonly byMem = new Map<AddressSpace, Map<bigint, Alias>>();
  /** Instructions whose first fault could not be absorbed (alias out of reach): not tried again. */
  private readonly refused = new Map<AddressSpace, Set<bigint>>();

  any(mem: AddressSpace): boolean {
    return (this.byMem.get(mem)?.size ?? 0) > 0;
  }

  /** Whether [start, start+len) holds an alias or an aliased page of `mem`. */
  isAliasMapping(mem: AddressSpace, start: bigint, end: bigint): boolean {
    for (const a of this.byMem.get(mem)?.values() ?? []) {
      if ((a.page >= start && a.page < end) || (a.alias >= start && a.alias < end)) return true;
    }
    return false;
  }

  /**
   * A write fault at `address` on a watched page of `set`, by the instruction
   * at `pc`: 'absorbed' when the instruction was redirected (re-running it
   * no longer faults), 'benign' when it cannot touch a watched range but
   * could not be redirected (step over it and go on), undefined when it may
   * be a watched write (the debugger must examine it).
   */
  onFault(host: AliasHost, set: WatchSet, pc: bigint, address: bigint, protection: number): 'absorbed' | 'benign' | undefined {
    if (!ENABLED) return undefined;
    const page = address & ~(PAGE - 1n);
    const here = set.watches.filter((w) => set.pagesOf(w).includes(page));
    if (here.length === 0 || here.some((w) => w.kind !== 'write')) return undefined;
    if (((set.programProt.get(page) ?? 3) & 2) === 0) return undefined; // the program's own protection forbids the store: its fault is real
    const code = this.hide(host.mem, pc, host.mem.readPartial(pc, 15));
    const store = fixedStoreAt(code, pc, address);
    if (!store) return undefined;
    const end = address + BigInt(store.width);
    if (end > page + PAGE) return undefined; // into the next page, which the alias does not cover
    if (set.watches.some((w) => address < w.address + BigInt(w.length) && end > w.address)) return undefined;
    const refused = this.refused.get(host.mem);
    if (refused?.has(pc)) return 'benign';
    const alias = this.aliasOf(host, page, protection);
    const at = pc + BigInt(store.dispOffset);
    const disp = BigInt(store.disp) + (alias ? alias.alias - page : 0n);
    if (!alias || disp < -(1n << 31n) || disp >= 1n << 31n || alias.patches.has(at)) {
      if (!refused) this.refused.set(host.mem, new Set([pc]));
      else refused.add(pc);
      return 'benign';
    }
    const bytes = Buffer.alloc(4);
    bytes.writeInt32LE(Number(disp));
    alias.patches.set(at, code.subarray(store.dispOffset, store.dispOffset + 4));
    host.mem.write(at, bytes);
    return 'absorbed';
  }

  /** The page's alias, made now if needed; undefined when the process cannot have one. */
  private aliasOf(host: AliasHost, page: bigint, protection: number): Alias | undefined {
    let m = this.byMem.get(host.mem);
    const known = m?.get(page);
    if (known) return known;
    if (host.emptyString === undefined) return undefined;
    const contents = host.mem.read(page, Number(PAGE));
    const fd = host.inject(nr('memfd_create'), [host.emptyString, MFD_CLOEXEC]);
    if (fd < 0n) return undefined;
    try {
      if (host.inject(nr('ftruncate'), [fd, PAGE]) < 0n) return undefined;
      // Near the page, so that rewritten displacements reach it, and in a range programs rarely map.
      const hint = page >= 1n << 32n ? page - (1n << 30n) : page + (1n << 30n);
      const alias = host.inject(nr('mmap'), [hint, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0n]);
      if (alias < 0n || alias > 0x7fff_ffff_ffffn) return undefined;
      host.mem.write(alias, contents);
      const r = host.inject(nr('mmap'), [page, PAGE, BigInt(protection), MAP_SHARED | MAP_FIXED, fd, 0n]);
      if (r !== page) {
        host.inject(nr('munmap'), [alias, PAGE]);
        return undefined;
      }
      const a: Alias = { page, alias, patches: new Map() };
      if (!m) this.byMem.set(host.mem, (m = new Map()));
      m.set(page, a);
      return a;
    } finally {
      host.inject(nr('close'), [fd]);
    }
  }

  /** Makes `page` private again (same contents, protection `protection`) and restores the instructions redirected to its alias. */
  drop(host: AliasHost, page: bigint, protection: number): void {
    const m = this.byMem.get(host.mem);
    const a = m?.get(page);
    if (!a) return;
    m!.delete(page);
    for (const [at, bytes] of a.patches) {
      try {
        host.mem.write(at, bytes);
      } catch {
        // the code was unmapped meanwhile
      }
    }
    const contents = host.mem.readPartial(page, Number(PAGE));
    if (contents.length === Number(PAGE)) {
      host.inject(nr('mmap'), [page, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1n, 0n]);
      host.mem.write(page, contents);
      host.inject(nr('mprotect'), [page, PAGE, BigInt(protection)]);
    }
    host.inject(nr('munmap'), [a.alias, PAGE]);
  }

  /** Drops every alias of the process. */
  dropAll(host: AliasHost, protectionFor: (page: bigint) => number): void {
    for (const page of [...(this.byMem.get(host.mem)?.keys() ?? [])]) this.drop(host, page, protectionFor(page));
  }

  /** Forgets the aliases of an address space that is gone (exec, exit). */
  forget(mem: AddressSpace): void {
    this.byMem.delete(mem);
    this.refused.delete(mem);
  }

  /** `data` read at `address` as the program wrote it: rewritten displacements show their original bytes. */
  hide(mem: AddressSpace, address: bigint, data: Buffer): Buffer {
    const m = this.byMem.get(mem);
    if (!m || m.size === 0) return data;
    let out = data;
    for (const a of m.values()) {
      for (const [at, bytes] of a.patches) {
        for (let k = 0; k < 4; k++) {
          const off = at + BigInt(k) - address;
          if (off < 0n || off >= BigInt(out.length)) continue;
          if (out === data) out = Buffer.from(data);
          out[Number(off)] = bytes[k]!;
        }
      }
    }
    return out;
  }
}

/** Real syscalls before which the aliases of the process are dropped: they create processes, replace it, or change its memory map. */
export function dropsAliases(nrv: number): boolean {
  return [
    'fork', 'vfork', 'clone', 'clone3', 'execve', 'execveat',
    'mmap', 'munmap', 'mremap', 'mprotect', 'madvise', 'brk', 'shmat', 'shmdt', 'process_vm_writev', 'pkey_mprotect',
  ].some((n) => nr(n) === nrv);
}
