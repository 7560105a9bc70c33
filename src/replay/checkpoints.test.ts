// AutoCheckpoints' bookkeeping: which images stay when there are too many,
// and that an image a search still needs is never dropped under it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AutoCheckpoints } from './checkpoints.js';
import type { ReplaySession, SessionImage } from './replay-session.js';

/** A stand-in session at `position` whose images record their disposal. */
function fakeSession(disposed: number[]) {
  const s = {
    position: 0,
    imageBlocker: () => undefined,
    image: () => {
      const pos = s.position;
      return { pos, tasks: { dispose: () => disposed.push(pos) } } as unknown as SessionImage;
    },
  };
  return s;
}

function imageAt(c: AutoCheckpoints, s: ReturnType<typeof fakeSession>, pos: number): void {
  s.position = pos;
  c.advanced(s as unknown as ReplaySession, 1, true);
}

test('past the maximum, the image whose neighbours are closest is dropped, never the first', () => {
  const disposed: number[] = [];
  const c = new AutoCheckpoints(0, 3);
  const s = fakeSession(disposed);
  for (const pos of [0, 10, 11, 30]) imageAt(c, s, pos);
  assert.deepEqual(disposed, [10]);
  assert.equal(c.count, 3);
  assert.equal(c.latest(30, false)!.pos, 11);
  assert.equal(c.latest(5, false)!.pos, 0);
});

test('an image held by a search is not dropped while the search takes more images, and the excess goes after', () => {
  const disposed: number[] = [];
  const c = new AutoCheckpoints(0, 3);
  const s = fakeSession(disposed);
  for (const pos of [0, 10, 20]) imageAt(c, s, pos);
  const held = c.latest(15, false)!;
  assert.equal(held.pos, 10);
  c.hold(held, () => {
    imageAt(c, s, 11); // without the hold, 10 (closest neighbours) would go
    imageAt(c, s, 12);
    assert.ok(!disposed.includes(10), `disposed ${disposed.join(', ')}`);
    assert.equal(c.latest(11, false), held, 'still there to restore again');
  });
  assert.equal(c.count, 3);
  assert.equal(disposed.length, 2, `disposed ${disposed.join(', ')}`);
});
