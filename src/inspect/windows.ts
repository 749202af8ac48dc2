/**
 * Byte ranges at known offsets, collected from a forward-only stream as it passes. A format
 * whose deciding data sits at a fixed or header-given offset (VHDX region table and metadata)
 * asks for a window; when the window fills, its callback may ask for more windows further on.
 * Memory is bounded by what is asked for, never by the image.
 */
export interface Window {
  offset: number;
  length: number;
  data: Buffer;
  filled: number;
  onFilled: (data: Buffer) => void;
}

/** The most bytes one window may hold. */
export const MAX_WINDOW_BYTES = 1024 * 1024;

/** Bytes the stream held at an offset (what a snapshot of the inspection keeps). */
export interface Range {
  offset: number;
  data: Buffer;
}

export class Windows {
  private pending: Window[] = [];
  /** Windows asked for at an offset the stream had already passed. */
  missed = 0;
  private position = 0;
  /** Filled windows, kept when the inspection may be snapshot (`keepFilled`). */
  private readonly filled: Window[] = [];

  constructor(private readonly keepFilled = false) {}

  /** What every window asked for so far holds. */
  captured(): Range[] {
    return [...this.filled, ...this.pending]
      .filter((w) => w.filled > 0)
      .map((w) => ({ offset: w.offset, data: w.data.subarray(0, w.filled) }));
  }

  /**
   * Moves past `length` bytes nobody asked for (replaying a snapshot): throws if a window wanted
   * any of them, which would make the replay differ from the stream.
   */
  skip(length: number): void {
    const end = this.position + length;
    if (this.pending.some((w) => w.offset + w.filled < end && w.offset + w.length > this.position)) {
      throw new Error(`a window wants bytes between ${this.position} and ${end}`);
    }
    this.position = end;
  }

  want(offset: number, length: number, onFilled: (data: Buffer) => void): void {
    const size = Math.max(0, Math.min(length, MAX_WINDOW_BYTES));
    if (offset < this.position) {
      this.missed++;
      return;
    }
    this.pending.push({ offset, length: size, data: Buffer.alloc(size), filled: 0, onFilled });
  }

  /** Feeds the chunk that starts at the current stream position. */
  push(chunk: Buffer): void {
    const start = this.position;
    const end = start + chunk.length;
    // A callback may ask for a window inside this same chunk: keep going until nothing new fills.
    for (let progress = true; progress;) {
      progress = false;
      for (const w of [...this.pending]) {
        const from = Math.max(start, w.offset + w.filled);
        const to = Math.min(end, w.offset + w.length);
        if (to > from) {
          chunk.copy(w.data, from - w.offset, from - start, to - start);
          w.filled = to - w.offset;
        }
        if (w.filled >= w.length) {
          this.pending.splice(this.pending.indexOf(w), 1);
          if (this.keepFilled) this.filled.push(w);
          w.onFilled(w.data);
          progress = true;
        }
      }
    }
    this.position = end;
  }

  /** Windows still waiting when the stream ended lie (partly) past its end. */
  get unfilled(): number {
    return this.pending.length;
  }
}
