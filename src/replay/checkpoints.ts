// Automatic checkpoints: images of the replay (process-images.ts) taken as
// the debugger's replays advance, so that going backwards replays from the
// nearest earlier image instead of from the start of the recording.
//
// An image is taken at an event boundary once about `intervalMs` of replay
// time has passed since the session's last image, so re-running from one
// costs at most about that much. Their number is bounded: past `max`, the
// image whose neighbours are closest together is dropped (the first one,
// where the debuggee starts, always stays, and so does an image in use: see
// hold).
import type { ReplaySession, SessionImage } from './replay-session.js';

/** TRR_LOG=checkpoint logs checkpoints taken and used (tests read it). */
export const CHECKPOINT_LOG = (process.env.TRR_LOG ?? '').includes('checkpoint');

/** Replay time between automatic checkpoints; TRR_CHECKPOINT_INTERVAL_MS overrides it (0: at every event). */
export const DEFAULT_CHECKPOINT_INTERVAL_MS = Number(process.env.TRR_CHECKPOINT_INTERVAL_MS || 250);
export const DEFAULT_MAX_CHECKPOINTS = 64;

export class AutoCheckpoints {
  /** Sorted by position, at most one per position. */
  private readonly images: SessionImage[] = [];
  /** Replay time (ms) each session spent since it was at an image. */
  private readonly cost = new WeakMap<ReplaySession, number>();
  /** Images a caller will restore again (see hold); they are not dropped meanwhile. */
  private readonly held = new Set<SessionImage>();

  constructor(
    readonly intervalMs = DEFAULT_CHECKPOINT_INTERVAL_MS,
    readonly max = DEFAULT_MAX_CHECKPOINTS,
  ) {}

  get count(): number {
    return this.images.length;
  }

  /** The latest image at a position before `pos` (or at it, when `inclusive`). */
  latest(pos: number, inclusive: boolean): SessionImage | undefined {
    for (let i = this.images.length - 1; i >= 0; i--) {
      const im = this.images[i]!;
      if (im.pos < pos || (inclusive && im.pos === pos)) return im;
    }
    return undefined;
  }

  /**
   * Runs `body` with `image` kept: a search that replays from an image and
   * then restores it again must not see it dropped by the images its own
   * replay takes on the way.
   */
  hold<T>(image: SessionImage | undefined, body: () => T): T {
    if (!image || this.held.has(image)) return body();
    this.held.add(image);
    try {
      return body();
    } finally {
      this.held.delete(image);
      this.trim();
    }
  }

  /** Whether `image` is still kept (not dropped since it was taken). */
  has(image: SessionImage): boolean {
    return this.images.includes(image);
  }

  /** The image at event boundary `pos`, if one is kept. */
  at(pos: number): SessionImage | undefined {
    return this.images.find((im) => im.pos === pos);
  }

  /** Keeps `image` until unpin(): a search that takes several images and uses them afterwards must not see them dropped meanwhile. */
  pin(image: SessionImage): void {
    this.held.add(image);
  }

  /** Undoes pin() for each of `images` (then drops images past `max` again). */
  unpin(images: Iterable<SessionImage>): void {
    for (const im of images) this.held.delete(im);
    this.trim();
  }

  /** Session `s` stands at an image now (it was just restored from one, or created). */
  atImage(s: ReplaySession): void {
    this.cost.set(s, 0);
  }

  /** Images `s` where it stands if it can be imaged and no image is there yet. */
  take(s: ReplaySession): void {
    if (!this.images.some((im) => im.pos === s.position) && !s.imageBlocker()) this.add(s.image());
    this.atImage(s);
  }

  /** As take(), and pins the image at `s`'s position (see pin()); returns it, or undefined when `s` cannot be imaged there. */
  takePinned(s: ReplaySession): SessionImage | undefined {
    const there = this.at(s.position);
    if (there) {
      this.pin(there);
      return there;
    }
    if (s.imageBlocker()) return undefined;
    const image = s.image();
    this.held.add(image);
    this.add(image);
    this.atImage(s);
    return image;
  }

  /** Session `s` replayed for `ms`; at an event boundary, it is imaged when an image is due. */
  advanced(s: ReplaySession, ms: number, atBoundary: boolean): void {
    const cost = (this.cost.get(s) ?? 0) + ms;
    this.cost.set(s, cost);
    if (cost < this.intervalMs || !atBoundary) return;
    if (this.images.some((im) => im.pos === s.position)) return this.atImage(s);
    if (s.imageBlocker()) {
      this.cost.set(s, this.intervalMs * 0.9); // try again a little later
      return;
    }
    this.add(s.image());
    this.atImage(s);
  }

  private add(image: SessionImage): void {
    if (CHECKPOINT_LOG) process.stderr.write(`[checkpoint] taken at event ${image.pos}\n`);
    const i = this.images.findIndex((im) => im.pos > image.pos);
    this.images.splice(i < 0 ? this.images.length : i, 0, image);
    this.trim();
  }

  /** Drops images while there are more than `max`, except held ones (there may then be more for a while). */
  private trim(): void {
    while (this.images.length > this.max) {
      const gap = (k: number) => this.images[k + 1]!.pos - this.images[k - 1]!.pos;
      let drop: number | undefined;
      for (let j = 1; j < this.images.length - 1; j++) {
        if (!this.held.has(this.images[j]!) && (drop === undefined || gap(j) < gap(drop))) drop = j;
      }
      if (drop === undefined) return;
      this.images.splice(drop, 1)[0]!.tasks.dispose();
    }
  }

  dispose(): void {
    for (const im of this.images.splice(0)) im.tasks.dispose();
  }
}
