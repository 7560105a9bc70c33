// A guess at the call that entered the function a thread stands in, for
// reverse-stepi (reverse.ts). A breakpoint at a function (gdb's `break f`,
// set just after the prologue) is often reached once in a thread's run,
// inside a loop that runs thousands of times: the last earlier visit of the
// breakpoint's instruction is then in an earlier run, and finding the
// instruction before it by counting the loop's visits costs one ptrace stop
// per iteration. The call instruction that entered the function is visited
// as rarely as the function: its last visit before the position, and a few
// single steps from there, give the instruction before.
//
// Only a guess: the return address is looked for where the stack pointer or
// the frame pointer says, and the instruction before it must be a direct
// call (or a call through the PLT) of a function that starts at most
// PROLOGUE bytes before the position. The caller replays to the guess's
// last visit and single-steps from there to the position, so a wrong guess
// costs time, never a wrong answer.
import type { Registers } from '../arch/registers.js';

/** How far after a function's entry the position may be (gdb puts `break f` after the prologue). */
const PROLOGUE = 64n;

/** Where a call through the PLT stub at `stub` jumps: the slot's address, or undefined when `stub` is no such stub. */
function pltSlot(code: Buffer, stub: bigint): bigint | undefined {
  // jmp *disp32(%rip), with endbr64 and bnd prefixes as .plt.sec stubs have them.
  let i = 0;
  if (code.subarray(0, 4).equals(Buffer.from([0xf3, 0x0f, 0x1e, 0xfa]))) i = 4;
  if (code[i] === 0xf2) i++;
  if (code[i] !== 0xff || code[i + 1] !== 0x25 || code.length < i + 6) return undefined;
  return stub + BigInt(i + 6) + BigInt(code.readInt32LE(i + 2));
}

/**
 * The address of the call instruction that entered the function `regs`
 * stands in (at most PROLOGUE bytes after its entry), guessed from the
 * return address at the stack pointer or just above the frame pointer;
 * `read` reads the process's memory (fewer bytes where it is unmapped).
 */
export function callSiteBefore(regs: Registers, read: (address: bigint, length: number) => Buffer): bigint | undefined {
  const ip = regs.ip;
  for (const slot of [regs.get('rsp'), regs.get('rbp') + 8n]) {
    const word = read(slot, 8);
    if (word.length < 8) continue;
    const ret = word.readBigUInt64LE(0);
    if (ret < 5n) continue;
    const call = read(ret - 5n, 5);
    if (call.length < 5 || call[0] !== 0xe8) continue; // call rel32
    const callee = BigInt.asUintN(64, ret + BigInt(call.readInt32LE(1)));
    let entry: bigint | undefined = callee;
    if (ip - callee > PROLOGUE || ip < callee) {
      const slotAt = pltSlot(read(callee, 16), callee); // a call through the PLT: the function is where its slot points
      const target = slotAt === undefined ? undefined : read(slotAt, 8);
      entry = target && target.length === 8 ? target.readBigUInt64LE(0) : undefined;
    }
    if (entry !== undefined && ip >= entry && ip - entry <= PROLOGUE) return ret - 5n;
  }
  return undefined;
}
