// The CPUID leaves a trace header keeps, and the CPU features they announce,
// so that replay on another CPU can say which features differ. (A program
// may pick code paths by them, e.g. glibc's AVX2/AVX-512 string functions,
// and replay must then run the same ones.) Names follow /proc/cpuinfo.

/** [leaf, subleaf] pairs recorded in the trace header, keyed `"leaf.subleaf"` (leaf in hex). */
export const CPUID_LEAVES: readonly (readonly [number, number])[] = [
  [0, 0], [1, 0], [7, 0], [0xd, 0], [0xd, 1], [0x80000000, 0], [0x80000001, 0],
  // The brand string (traces from before 2026-12-04 lack these leaves).
  [0x80000002, 0], [0x80000003, 0], [0x80000004, 0],
];

export function cpuidKey(leaf: number, subleaf: number): string {
  return `${leaf.toString(16)}.${subleaf}`;
}

/** Register outputs of one leaf: eax, ebx, ecx, edx. */
export type CpuidLeaf = readonly number[];

/** Names of the feature bits compared, by leaf, register and bit ('-' = reserved, or a copy of a bit named elsewhere). */
const FEATURE_BITS: readonly { readonly key: string; readonly reg: 0 | 1 | 2 | 3; readonly names: string }[] = [
  {
    key: '1.0', reg: 2,
    names: 'sse3 pclmulqdq dtes64 monitor ds_cpl vmx smx est tm2 ssse3 cnxt_id sdbg fma cx16 xtpr pdcm - pcid dca sse4_1 sse4_2 x2apic movbe popcnt tsc_deadline_timer aes xsave osxsave avx f16c rdrand hypervisor',
  },
  {
    key: '1.0', reg: 3,
    names: 'fpu vme de pse tsc msr pae mce cx8 apic - sep mtrr pge mca cmov pat pse36 psn clflush - ds acpi mmx fxsr sse sse2 ss ht tm ia64 pbe',
  },
  {
    key: '7.0', reg: 1,
    names: 'fsgsbase tsc_adjust sgx bmi1 hle avx2 fdp_excptn_only smep bmi2 erms invpcid rtm cqm zero_fcs_fds mpx rdt_a avx512f avx512dq rdseed adx smap avx512ifma pcommit clflushopt clwb intel_pt avx512pf avx512er avx512cd sha_ni avx512bw avx512vl',
  },
  {
    key: '7.0', reg: 2,
    names: 'prefetchwt1 avx512vbmi umip pku ospke waitpkg avx512_vbmi2 shstk gfni vaes vpclmulqdq avx512_vnni avx512_bitalg tme avx512_vpopcntdq - la57 - - - - - rdpid kl bus_lock_detect cldemote - movdiri movdir64b enqcmd sgx_lc pks',
  },
  {
    key: '7.0', reg: 3,
    names: '- sgx_keys avx512_4vnniw avx512_4fmaps fsrm uintr - - avx512_vp2intersect srbds_ctrl md_clear rtm_always_abort - tsx_force_abort serialize hybrid_cpu tsxldtrk - pconfig arch_lbr ibt - amx_bf16 avx512_fp16 amx_tile amx_int8 spec_ctrl intel_stibp flush_l1d arch_capabilities core_capabilities spec_ctrl_ssbd',
  },
  {
    // The state components XSAVE supports (what XCR0 may enable): their presence changes the XSAVE layout.
    key: 'd.0', reg: 0,
    names: 'xstate:x87 xstate:sse xstate:avx xstate:mpx_bndregs xstate:mpx_bndcsr xstate:avx512_opmask xstate:avx512_zmm_hi256 xstate:avx512_hi16_zmm xstate:pt xstate:pkru xstate:pasid xstate:cet_user xstate:cet_supervisor xstate:hdc xstate:uintr xstate:lbr xstate:hwp xstate:amx_tilecfg xstate:amx_tiledata',
  },
  { key: 'd.1', reg: 0, names: 'xsaveopt xsavec xgetbv1 xsaves xfd' },
  {
    key: '80000001.0', reg: 2,
    names: 'lahf_lm cmp_legacy svm extapic cr8_legacy abm sse4a misalignsse 3dnowprefetch osvw ibs xop skinit wdt - lwp fma4 tce - nodeid_msr - tbm topoext perfctr_core perfctr_nb - bpext ptsc perfctr_llc mwaitx',
  },
  {
    // Bits 0-17, 23 and 24 repeat leaf 1's edx on AMD.
    key: '80000001.0', reg: 3,
    names: '- - - - - - - - - - - syscall - - - - - - - mp nx - mmxext - - fxsr_opt pdpe1gb rdtscp - lm 3dnowext 3dnow',
  },
];

function validLeaf(v: unknown): v is CpuidLeaf {
  return Array.isArray(v) && v.length === 4 && v.every((x) => Number.isInteger(x) && x >= -0x80000000 && x <= 0xffffffff);
}

/**
 * The features whose bits differ between the recorded leaves and the current
 * ones, as "avx512f present when recording, absent now". Leaves missing from
 * either side (or malformed in the header) are not compared.
 */
export function cpuFeatureDifferences(recorded: Readonly<Record<string, unknown>>, current: Readonly<Record<string, unknown>>): string[] {
  const out: string[] = [];
  for (const { key, reg, names } of FEATURE_BITS) {
    const then = recorded[key];
    const now = current[key];
    if (!validLeaf(then) || !validLeaf(now)) continue;
    const differ = (then[reg]! ^ now[reg]!) >>> 0;
    names.split(' ').forEach((name, bit) => {
      if (name === '-' || !(differ & (1 << bit))) return;
      out.push(`${name} ${then[reg]! & (1 << bit) ? 'present when recording, absent now' : 'absent when recording, present now'}`);
    });
  }
  return out;
}

/**
 * Whether the recorded program could take random numbers from the CPU
 * (RDRAND, RDSEED), which no syscall carries and trr cannot record: the
 * recorded CPU has them and cpuid was not trapped to hide them.
 */
export function couldUseCpuRandomness(features: readonly string[], leaves: Readonly<Record<string, unknown>>): boolean {
  if (features.includes('cpuid-faulting')) return false;
  const one = leaves['1.0'];
  const seven = leaves['7.0'];
  return (validLeaf(one) && (one[2]! & (1 << 30)) !== 0) || (validLeaf(seven) && (seven[1]! & (1 << 18)) !== 0);
}

function ascii(words: readonly number[]): string {
  const b = Buffer.alloc(words.length * 4);
  words.forEach((w, i) => b.writeUInt32LE(w >>> 0, i * 4));
  return b.toString('latin1').replace(/\0.*$/s, '').replace(/[^\x20-\x7e]/g, '?').trim().replace(/\s+/g, ' ');
}

/** The CPU the leaves describe, as "GenuineIntel family 6 model 85 stepping 7 (Intel(R) Xeon(R) ...)", or undefined without leaves 0 and 1. */
export function cpuIdentity(leaves: Readonly<Record<string, unknown>>): string | undefined {
  const l0 = leaves['0.0'];
  const l1 = leaves['1.0'];
  if (!validLeaf(l0) || !validLeaf(l1)) return undefined;
  const vendor = ascii([l0[1]!, l0[3]!, l0[2]!]);
  const eax = l1[0]! >>> 0;
  const baseFamily = (eax >>> 8) & 0xf;
  const family = baseFamily === 0xf ? baseFamily + ((eax >>> 20) & 0xff) : baseFamily;
  const model = baseFamily === 0x6 || baseFamily === 0xf ? (((eax >>> 16) & 0xf) << 4) | ((eax >>> 4) & 0xf) : (eax >>> 4) & 0xf;
  const brandLeaves = ['80000002.0', '80000003.0', '80000004.0'].map((k) => leaves[k]);
  const brand = brandLeaves.every(validLeaf) ? ascii(brandLeaves.flatMap((l) => [...(l as CpuidLeaf)])) : '';
  return `${vendor} family ${family} model ${model} stepping ${eax & 0xf}${brand ? ` (${brand})` : ''}`;
}

/**
 * The size in bytes of the XSAVE area for the state components the OS
 * enabled (leaf 0xd, subleaf 0, ebx): the kernel's signal frames hold one,
 * so where it differs, every signal handler's frame and stack differ.
 */
export function xsaveSize(leaves: Readonly<Record<string, unknown>>): number | undefined {
  const l = leaves['d.0'];
  return validLeaf(l) ? l[1]! >>> 0 : undefined;
}

/**
 * Everything that differs between the recording's CPU and this one which a
 * replay can notice: feature bits (cpuFeatureDifferences) and the XSAVE area
 * size. Empty when replay runs on an equivalent CPU.
 */
export function cpuDifferences(recorded: Readonly<Record<string, unknown>>, current: Readonly<Record<string, unknown>>): string[] {
  const out = cpuFeatureDifferences(recorded, current);
  const [then, now] = [xsaveSize(recorded), xsaveSize(current)];
  if (then !== undefined && now !== undefined && then !== now) {
    out.push(`the XSAVE area is ${then} bytes when recording, ${now} now (signal handlers get frames of another size)`);
  }
  return out;
}
