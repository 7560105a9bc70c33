// Watchpoints without debug registers: the pages holding watched ranges are
// protected in the replayed process (read-only for write watchpoints, no
// access for read/access ones), so an access faults; the session then runs
// the faulting instruction with the page unprotected and protects it again.
// This class keeps the watched ranges and, for every protected page, the
// protection the program itself gave it (restored around the step, and
// updated when the program changes it with mprotect/mmap).

export type WatchKind = 'write' | 'read' | 'access';

export interface Watch {
  readonly address: bigint;
  readonly length: number;
  readonly kind: WatchKind;
}

export const PAGE = 4096n;
const PROT_NONE = 0;
const PROT_READ = 1;

export class WatchSet {
  readonly watches: Watch[] = [];
  /** page address -> the protection the program gave the page */
  readonly programProt = new Map<bigint, number>();

  pagesOf(w: Watch): bigint[] {
    const out: bigint[] = [];
    for (let p = w.address & ~(PAGE - 1n); p < w.address + BigInt(Math.max(1, w.length)); p += PAGE) out.push(p);
    return out;
  }

  /** The protection trr puts on a page: the program's, minus what the watches there must catch. */
  protectionFor(page: bigint): number {
    const prog = this.programProt.get(page) ?? 3;
    const here = this.watches.filter((w) => this.pagesOf(w).includes(page));
    if (here.length === 0) return prog;
    if (here.some((w) => w.kind !== 'write')) return PROT_NONE;
    return prog & PROT_READ;
  }

  watchedPages(): bigint[] {
    return [...new Set(this.watches.flatMap((w) => this.pagesOf(w)))];
  }

  isWatchedPage(page: bigint): boolean {
    return this.watches.some((w) => this.pagesOf(w).includes(page));
  }
}

/** Whether an access at `address` (of unknown width, up to 16 bytes) may touch watch `w`'s range. */
export function touches(w: Watch, address: bigint): boolean {
  return address < w.address + BigInt(w.length) && address + 16n > w.address;
}
