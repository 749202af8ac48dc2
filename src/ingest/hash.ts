import { Transform, type TransformCallback } from "node:stream";
import { OffThreadHash } from "./off-thread-hash.js";
import { VitrineError } from "../core/errors.js";
import { FormatSniffer, type SnifferOptions, type SnifferSnapshot } from "../inspect/sniffer.js";

export interface Digests {
  size: number;
  md5: string;
  sha512: string;
}

const ALGORITHMS = ["md5", "sha512"];

/** Where a resumable meter stood at a checkpoint: enough to go on from there in another process. */
export interface MeterState {
  size: number;
  /** The saved states of MD5 and SHA-512. */
  hashes: Uint8Array[];
  inspection: SnifferSnapshot;
}

export interface MeterOptions extends SnifferOptions {
  inspect?: boolean;
  onBytes?: (bytesRead: number) => void;
}

/**
 * Measures what passes: byte count, MD5, SHA-512 and the format sniffer, refusing more than
 * `maxBytes` (an endless source cannot fill the disk). A resumable meter (made by `resumable`)
 * can be saved at a checkpoint and continued from it, at some cost in hashing speed
 * (hash-wasm instead of OpenSSL: README "Resumable transfers").
 */
export class Meter {
  /**
   * On their own thread: the two hashes are the ingest's main cost, beside the HTTP and the
   * writes. Saveable ones (hash-wasm, slower) get a thread each, so that the slower of the two
   * sets the pace rather than their sum.
   */
  private readonly hashes: OffThreadHash[];
  readonly sniffer: FormatSniffer;
  private size: number;
  /** Off only in the benchmark that measures what inspection costs. */
  private readonly inspect: boolean;

  constructor(
    private readonly maxBytes: number,
    private readonly options: MeterOptions = {},
    from?: { state: MeterState | null },
  ) {
    this.inspect = options.inspect ?? true;
    this.size = from?.state?.size ?? 0;
    this.hashes = from
      ? ALGORITHMS.map(
          (a, i) => new OffThreadHash([a], { states: from.state ? [from.state.hashes[i]!] : null }),
        )
      : [new OffThreadHash(ALGORITHMS)];
    this.sniffer = from?.state
      ? FormatSniffer.restore(from.state.inspection, options)
      : new FormatSniffer({ ...options, snapshots: from !== undefined });
  }

  /** A meter whose state can be saved (`state()`), fresh or from a saved state. */
  static resumable(maxBytes: number, options: MeterOptions, state: MeterState | null): Meter {
    return new Meter(maxBytes, options, { state });
  }

  /** Bytes measured so far. */
  get bytes(): number {
    return this.size;
  }

  /** Measures the chunk; a promise when the hash thread is behind (wait before the next). */
  update(chunk: Buffer): Promise<void> | null {
    // Refused before it counts: a resumable meter's state stays that of the data before it.
    if (this.size + chunk.length > this.maxBytes) {
      throw new VitrineError(
        "PAYLOAD_TOO_LARGE",
        `Image data exceeds the size limit of ${this.maxBytes} bytes`,
      );
    }
    this.size += chunk.length;
    this.options.onBytes?.(this.size);
    // A loop, not map/filter: this runs for every chunk of every upload.
    let behind: Promise<void> | null = null;
    for (const hash of this.hashes) {
      const waiting = hash.update(chunk);
      if (waiting) behind = behind ? Promise.all([behind, waiting]).then(() => {}) : waiting;
    }
    if (this.inspect) this.sniffer.push(chunk);
    return behind;
  }

  /** Where the meter stands now (a resumable meter only): copies, safe to keep. */
  async state(): Promise<MeterState> {
    const inspection = this.sniffer.snapshot();
    const copied = {
      total: inspection.total,
      ranges: inspection.ranges.map((r) => ({ offset: r.offset, data: Buffer.from(r.data) })),
    };
    const size = this.size;
    const states = await Promise.all(this.hashes.map((h) => h.save()));
    return { size, hashes: states.flat(), inspection: copied };
  }

  /** Size and digests of everything measured; the hash thread ends. */
  async digests(): Promise<Digests> {
    const digests = Object.assign({}, ...(await Promise.all(this.hashes.map((h) => h.digests())))) as Record<
      string,
      string
    >;
    return { size: this.size, md5: digests.md5!, sha512: digests.sha512! };
  }

  /** Stops the hash threads without a result. */
  destroy(): void {
    for (const h of this.hashes) h.destroy();
  }
}

/**
 * A pass-through stage that measures what flows through it (a Meter), in the same pass as the write.
 */
export class MeasuringStream extends Transform {
  private readonly meter: Meter;

  constructor(maxBytes: number, options: MeterOptions = {}) {
    super();
    this.meter = new Meter(maxBytes, options);
  }

  get sniffer(): FormatSniffer {
    return this.meter.sniffer;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    let behind: Promise<void> | null;
    try {
      behind = this.meter.update(chunk);
    } catch (err) {
      done(err as Error);
      return;
    }
    if (behind) behind.then(() => done(null, chunk), done);
    else done(null, chunk);
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    // A stream that ended keeps its worker until digests() has read the result.
    if (err || !this.writableFinished) this.meter.destroy();
    callback(err);
  }

  /** Size and digests of everything that passed; call once the stream has ended. */
  digests(): Promise<Digests> {
    return this.meter.digests();
  }
}
