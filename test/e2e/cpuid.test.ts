// CPUID faulting: where the CPU can make cpuid fault, trr answers every cpuid
// of the recorded program, records the answers and hides RDRAND/RDSEED, so a
// program that would take random numbers from the CPU takes them from a
// syscall instead, and replays exactly. Where it cannot (AMD CPUs, or
// TRR_NO_CPUID_FAULTING=1), such a program's replay must stop with a clear
// divergence error, never go on silently different.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpuidFaults } from '../../src/native/native.js';
import { buildProgram, manifest, saveLog, trr, withOutputDir } from '../support/harness.js';

const program = () => buildProgram(manifest().find((p) => p.name === 'cpuid_features')!);
const cpuHasRdrand = /^flags\s*:.*\brdrand\b/m.test(readFileSync('/proc/cpuinfo', 'utf8'));

test('with CPUID faulting, cpuid answers are recorded, RDRAND is hidden and the replay is exact', { skip: !cpuidFaults() && 'this CPU has no CPUID faulting' }, async () => {
  await withOutputDir('cpuid-faulting', (dir) => {
    const trace = join(dir, 'trace');
    const rec = trr(['record', '-o', trace, program(), 'rdrand'], { cwd: dir });
    saveLog(dir, 'record', rec);
    assert.equal(rec.status, 0, rec.stderr);
    assert.equal(rec.stdout, 'random bytes from: getrandom\n', 'cpuid must not announce RDRAND under trr');
    const rep = trr(['replay', '-a', trace]);
    saveLog(dir, 'replay', rep);
    assert.equal(rep.status, 0, rep.stderr);
    assert.equal(rep.stdout, rec.stdout);
    const dump = trr(['dump', trace]);
    assert.equal(dump.status, 0, dump.stderr);
    // The dynamic loader asks first; the program's own leaf 1 (feature bits) has RDRAND (ecx bit 30) cleared.
    const leaf1 = [...dump.stdout.matchAll(/cpuid\(0x1, 0x[0-9a-f]+\) = 0x[0-9a-f]+ 0x[0-9a-f]+ (0x[0-9a-f]+)/g)];
    assert.ok(leaf1.length > 0, `no cpuid record of leaf 1 in the dump:\n${dump.stdout}`);
    for (const m of leaf1) assert.equal(Number(m[1]) & (1 << 30), 0, `RDRAND shown: ${m[0]}`);
  });
});

test('without CPUID faulting, a program that took random numbers from RDRAND stops replay with a divergence error', { skip: !cpuHasRdrand && 'this CPU has no RDRAND' }, async () => {
  await withOutputDir('cpuid-no-faulting', (dir) => {
    const trace = join(dir, 'trace');
    const env = { ...process.env, TRR_NO_CPUID_FAULTING: '1' };
    const rec = trr(['record', '-o', trace, program(), 'rdrand'], { cwd: dir, env });
    saveLog(dir, 'record', rec);
    assert.equal(rec.status, 0, rec.stderr);
    assert.equal(rec.stdout, 'random bytes from: rdrand\n');
    const rep = trr(['replay', '-a', trace]);
    saveLog(dir, 'replay', rep);
    assert.equal(rep.status, 3, `replay must diverge:\n${rep.stderr}`);
    assert.match(rep.stderr, /^trr: replay diverged from the recording at event \d+ \(syscall write of thread \d+\): .*RDRAND/m);
    assert.doesNotMatch(rep.stderr, /\n\s+at /, 'no stack trace');
  });
});
