// qXfer:libraries-svr4:read: the debuggee's list of loaded libraries, read
// from the dynamic linker's r_debug/link_map as gdb would read it itself.
//
// Why trr answers it rather than letting gdb walk the link map: gdb 13
// keeps the libraries it read in a cache keyed by the address of their
// r_debug (its "linker namespaces"), and only refreshes that cache at the
// dynamic linker's probes. Going backwards to the start of the recording
// (reverse-continue, `restart`), the executable's DT_DEBUG is 0 again while
// the cache still puts ld.so in the namespace of the r_debug it saw later;
// gdb then searches only that namespace for global symbols, which leaves
// out the main executable: `print g_calls` said "'g_calls' has unknown
// type". A list whose libraries all have `lmid` 0 puts them in gdb's flat
// namespace 0, which is the initial one whatever DT_DEBUG says, so the
// executable is always searched.

const AT_PHDR = 3n;
const AT_PHNUM = 5n;
const PT_DYNAMIC = 2;
const PT_PHDR = 6;
const DT_NULL = 0n;
const DT_DEBUG = 21n;

export interface MemoryReader {
  readMemory(address: bigint, length: number): Buffer;
}

function u64(mem: MemoryReader, address: bigint): bigint | undefined {
  const b = mem.readMemory(address, 8);
  return b.length === 8 ? b.readBigUInt64LE(0) : undefined;
}

function cString(mem: MemoryReader, address: bigint): string {
  const parts: Buffer[] = [];
  for (let a = address, n = 0; n < 4096; n += 256, a += 256n) {
    const b = mem.readMemory(a, 256);
    if (b.length === 0) break;
    const z = b.indexOf(0);
    parts.push(z < 0 ? b : b.subarray(0, z));
    if (z >= 0) break;
  }
  return Buffer.concat(parts).toString('utf8');
}

/** The address of the executable's r_debug (its DT_DEBUG entry), 0 before the dynamic linker set it, undefined for a static executable. */
export function rDebugAddress(auxv: Buffer, mem: MemoryReader): bigint | undefined {
  const aux = new Map<bigint, bigint>();
  for (let o = 0; o + 16 <= auxv.length; o += 16) aux.set(auxv.readBigUInt64LE(o), auxv.readBigUInt64LE(o + 8));
  const phdr = aux.get(AT_PHDR);
  const phnum = Number(aux.get(AT_PHNUM) ?? 0n);
  if (phdr === undefined || phnum === 0) return undefined;
  const table = mem.readMemory(phdr, phnum * 56);
  if (table.length < phnum * 56) return undefined;
  let bias = 0n;
  let dynamic: bigint | undefined;
  for (let i = 0; i < phnum; i++) {
    const type = table.readUInt32LE(i * 56);
    const vaddr = table.readBigUInt64LE(i * 56 + 16);
    if (type === PT_PHDR) bias = phdr - vaddr;
    if (type === PT_DYNAMIC) dynamic = vaddr;
  }
  if (dynamic === undefined) return undefined;
  for (let a = dynamic + bias, n = 0; n < 512; n++, a += 16n) {
    const tag = u64(mem, a);
    if (tag === undefined || tag === DT_NULL) return undefined;
    if (tag === DT_DEBUG) return u64(mem, a + 8n) ?? undefined;
  }
  return undefined;
}

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const hex = (v: bigint) => `0x${v.toString(16)}`;

/** The library-list-svr4 document for the process whose auxv and memory are given. */
export function librariesSvr4(auxv: Buffer, mem: MemoryReader): string {
  const head = '<library-list-svr4 version="1.0"';
  const rDebug = rDebugAddress(auxv, mem);
  const map = rDebug ? u64(mem, rDebug + 8n) : undefined; // r_map
  if (!map) return `${head}/>`;
  const libs: string[] = [];
  let mainLm: bigint | undefined;
  const seen = new Set<bigint>();
  for (let lm = map; lm !== 0n && !seen.has(lm) && seen.size < 10_000; ) {
    seen.add(lm);
    const b = mem.readMemory(lm, 40);
    if (b.length < 40) break;
    const [lAddr, lName, lLd, lNext] = [0, 8, 16, 24].map((o) => b.readBigUInt64LE(o)) as [bigint, bigint, bigint, bigint];
    const name = lName ? cString(mem, lName) : '';
    if (mainLm === undefined) mainLm = lm; // the first entry is the executable
    else if (name !== '') libs.push(`<library name="${escape(name)}" lm="${hex(lm)}" l_addr="${hex(lAddr)}" l_ld="${hex(lLd)}" lmid="0x0"/>`);
    lm = lNext;
  }
  return `${head}${mainLm !== undefined ? ` main-lm="${hex(mainLm)}"` : ''}>${libs.join('')}</library-list-svr4>`;
}
