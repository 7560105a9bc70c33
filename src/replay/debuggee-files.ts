// Which file a debugger means when it asks for one of the debuggee's files
// (gdb's vFile packets): the debuggee sees the world as it was recorded, so
// /proc under the recorded pid and tids is the live replay's /proc, and a
// file the recorded programs mapped is the trace's copy of it.
import { dirname } from 'node:path';
import { parseMaps, readMapsText } from '../task/procfs.js';
import { blobLabel, type TraceReader } from '../trace/trace-stream.js';

export interface LiveDebuggee {
  /** Recorded pid of the debuggee. */
  readonly pid: number;
  /** Its live pid in the replay, when it is alive. */
  readonly livePid: number | undefined;
  /** The live tid of recorded thread `tid`, when it is alive. */
  liveTid(tid: number): number | undefined;
}

/**
 * `path` translated: /proc/PID[/task/TID]/... of the debuggee to the live
 * replay's; a mapped file to the trace's copy (by its recorded path, or, for
 * traces that did not record paths, by name among the copies the live
 * debuggee maps); anything else is left alone.
 */
export function debuggeeFile(path: string, trace: TraceReader, d: LiveDebuggee): string {
  const proc = /^\/proc\/(\d+)(?:\/task\/(\d+))?(\/.*)?$/.exec(path);
  if (proc) {
    if (Number(proc[1]) !== d.pid || d.livePid === undefined) return path;
    const task = proc[2] === undefined ? '' : `/task/${d.liveTid(Number(proc[2])) ?? proc[2]}`;
    return `/proc/${d.livePid}${task}${proc[3] ?? ''}`;
  }
  const blob = trace.mappedFiles().get(path);
  if (blob) return trace.blobPath(blob);
  if (d.livePid === undefined) return path;
  const files = trace.filesDir;
  const label = blobLabel(path);
  const copy = parseMaps(readMapsText(d.livePid)).find((m) => dirname(m.path) === files && m.path.slice(files.length + 1).replace(/^\d+-/, '') === label);
  return copy?.path ?? path;
}
