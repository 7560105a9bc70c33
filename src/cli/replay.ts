// `trr replay -a`: replays a trace to its end without a debugger, echoing
// what the program wrote to stdout and stderr, and exits with the recorded
// status.
import { waitStatus } from '../native/native.js';
import { ReplaySession } from '../replay/replay-session.js';
import { warnCpuDifferences, withCpuNote } from './environment.js';
import { openTraceWithEvents } from './trace-dir.js';

export function replayAutopilot(dir: string, warn: (m: string) => void): number {
  const reader = openTraceWithEvents(dir);
  const last = reader.eventCount - 1;
  // Frames are decoded as replay reaches them; damage is found before the
  // program runs (and prints) instead, by a pass over the compressed bytes.
  reader.verifyChecksums();
  warnCpuDifferences(reader.header, warn);
  if (reader.incomplete) {
    warn(`the trace in ${dir} is incomplete (the recording was cut off after event ${last}); replaying up to its last complete event.`);
  }
  const session = new ReplaySession(reader, { echo: true });
  try {
    session.start();
    session.runToEnd();
  } catch (e) {
    throw withCpuNote(e, reader.header);
  } finally {
    session.close();
  }
  if (reader.incomplete) {
    warn(`replay reached the last complete event (${last}) of the incomplete trace; the recorded program had not finished there.`);
    return 1;
  }
  if (session.exitStatus === undefined) return 0;
  const s = session.exitStatus;
  return waitStatus.exited(s) ? waitStatus.exitCode(s) : 128 + waitStatus.termSig(s);
}
