// The choice of anchors for reverse-stepi (see ReverseExecution.reverseStep in reverse.ts): which
// address of a sample of single steps is counted next.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StepSample, pickAnchor } from './visit-count.js';

/** A sample of `steps` steps of a thread going round `loop` (addresses, one step each) again and again. */
function sampleOf(loop: readonly bigint[], steps: number, before: readonly bigint[] = []): StepSample {
  const s = new StepSample();
  for (const ip of before) s.add(ip);
  for (let n = 0; s.steps < steps; n++) s.add(loop[n % loop.length]!);
  return s;
}

test('steps that stay at one address (a rep instruction) are one arrival', () => {
  const s = new StepSample();
  for (const ip of [1n, 2n, 2n, 2n, 2n, 3n, 2n]) s.add(ip);
  assert.equal(s.steps, 7);
  assert.deepEqual(s.arrivals.get(2n), { count: 2, last: 6 });
  assert.deepEqual(s.arrivals.get(3n), { count: 1, last: 5 });
});

test('the anchor is an instruction of the outer loop, not of a string instruction or an inner loop in it', () => {
  // An outer loop of 10 instructions, one of which (0x20) is a rep stos of 30 iterations, and an inner loop (0x30, 0x31) run 8 times.
  const body: bigint[] = [0x10n, 0x11n, ...Array<bigint>(30).fill(0x20n), 0x12n];
  for (let i = 0; i < 8; i++) body.push(0x30n, 0x31n);
  body.push(0x13n);
  const s = sampleOf(body, 2000);
  const a = pickAnchor(s);
  assert.equal(s.arrivals.get(a)!.count, Math.min(...[...s.arrivals.values()].map((x) => x.count)));
  assert.ok([0x10n, 0x11n, 0x12n, 0x13n, 0x20n].includes(a), `anchor 0x${a.toString(16)}`);
  assert.ok(s.arrivals.get(a)!.last > 2000 - body.length);
});

test('a loop the thread left before the sample ended is not an anchor', () => {
  // 0x1..0x3 looped at first, then a long loop over other addresses to the end.
  const first: bigint[] = [];
  for (let i = 0; i < 50; i++) first.push(1n, 2n, 3n);
  const later = Array.from({ length: 400 }, (_, i) => 0x100n + BigInt(i));
  const s = sampleOf(later, 2000, first);
  assert.ok(pickAnchor(s) >= 0x100n);
});

test('without a loop, the most frequent address', () => {
  const s = new StepSample();
  for (const ip of [5n, 6n, 7n, 6n, 8n, 9n]) s.add(ip);
  // 6 was arrived at twice, but long before the end (period 3, last at step 3 of 6): it still qualifies as the only repeated one.
  assert.equal(pickAnchor(s), 6n);
});
