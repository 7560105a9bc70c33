// trr's logs and warnings on stderr, written at once. They also come from the
// replay's worker thread (src/gdb/replay-worker.ts), whose process.stderr
// hands the text to the main thread to write later, after the gdb packets
// the worker answers meanwhile, and gdb writes its own (monitor) output to
// the same stderr: the two would interleave in the middle of lines.
import { writeSync } from 'node:fs';

const pause = new Int32Array(new SharedArrayBuffer(4));

/** Writes `text` to stderr before returning (dropped if stderr is gone). */
export function diag(text: string): void {
  const bytes = Buffer.from(text);
  for (let off = 0; off < bytes.length; ) {
    try {
      off += writeSync(2, bytes, off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') return;
      Atomics.wait(pause, 0, 0, 1); // a non-blocking stderr is full: let its reader catch up
    }
  }
}
