// The debugger's watchpoints across replay sessions: the watches the user
// set, and per session which of them are armed there (their pages protected
// by the session) with the values they had when last looked at, so that a
// change is reported once. Sessions come and go as the debugger moves in
// time; the watches stay.
import type { ReplaySession } from './replay-session.js';
import { touches, type Watch } from './watchpoints.js';

export class WatchBook {
  readonly watches: Watch[] = [];
  private readonly armedIn = new WeakMap<ReplaySession, Map<Watch, Buffer>>();

  /** `pid`: the recorded pid of the process whose memory is watched. */
  constructor(private readonly pid: number) {}

  private armed(s: ReplaySession): Map<Watch, Buffer> {
    let m = this.armedIn.get(s);
    if (!m) this.armedIn.set(s, (m = new Map()));
    return m;
  }

  add(w: Watch, s: ReplaySession): void {
    this.watches.push(w);
    this.arm(s);
  }

  /** Forgets the watch equal to `w`, and unprotects it in `s`. */
  remove(w: Watch, s: ReplaySession): void {
    const i = this.watches.findIndex((x) => x.address === w.address && x.length === w.length && x.kind === w.kind);
    if (i < 0) return;
    const [gone] = this.watches.splice(i, 1);
    if (this.armed(s).delete(gone!)) s.removeWatchpoint(this.pid, gone!);
  }

  /** Arms in `s` the watches whose memory is mapped (heap and stack come later), remembering their values now. */
  arm(s: ReplaySession): void {
    const armed = this.armed(s);
    for (const w of this.watches) {
      if (armed.has(w) || !s.liveTask(this.pid)) continue;
      if (s.setWatchpoint(this.pid, w)) armed.set(w, s.readMemory(this.pid, w.address, w.length));
    }
  }

  /** Unprotects every watch in `s` (arm() puts them back, with the values then). */
  disarm(s: ReplaySession): void {
    for (const w of this.armed(s).keys()) s.removeWatchpoint(this.pid, w);
    this.armed(s).clear();
  }

  /** Armed write/access watches whose value changed in `s` since last seen (and remembers the new values). */
  changed(s: ReplaySession): Watch[] {
    const out: Watch[] = [];
    const armed = this.armed(s);
    for (const [w, old] of armed) {
      const now = s.readMemory(this.pid, w.address, w.length);
      if (!now.equals(old)) {
        armed.set(w, now);
        if (w.kind !== 'read') out.push(w);
      }
    }
    return out;
  }

  /** Watches armed in `s` that an access at `address` may touch. */
  touchedIn(s: ReplaySession, address: bigint): Watch[] {
    return this.watches.filter((w) => this.armed(s).has(w) && touches(w, address));
  }

  /** The watch an access at `address` may touch, else the first one (for reporting a hit). */
  at(address: bigint): Watch {
    return this.watches.find((w) => touches(w, address)) ?? this.watches[0]!;
  }
}
