// trr pack: makes a trace self-contained (src/trace/file-store.ts), so that
// it can be moved to another machine, or the files it refers to can change,
// and it still replays.
import { TraceReader } from '../trace/trace-stream.js';
import { packTrace } from '../trace/file-store.js';

function human(bytes: number): string {
  return bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(1)} MiB` : `${Math.ceil(bytes / 1024)} KiB`;
}

/** Packs the trace in `dir`; says on stderr what it copied. */
export function pack(dir: string, say: (m: string) => void): void {
  TraceReader.open(dir); // a trace, of a version this trr reads
  const { copied, bytes } = packTrace(dir);
  say(copied === 0 ? `${dir} is self-contained already: nothing to pack.` : `copied ${copied} file${copied === 1 ? '' : 's'} (${human(bytes)}) into ${dir}; it no longer depends on files outside it.`);
}
