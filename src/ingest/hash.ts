import { createHash, type Hash } from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";
import { VitrineError } from "../core/errors.js";
import { FormatSniffer, type SnifferOptions } from "../inspect/sniffer.js";

export interface Digests {
  size: number;
  md5: string;
  sha512: string;
}

/**
 * A pass-through stage that measures what flows through it: byte count, MD5, SHA-512 and the
 * format sniffer, all in the same pass as the write (STYLE.md §3). It refuses to pass more than
 * `maxBytes`, so an endless source cannot fill the disk.
 */
export class MeasuringStream extends Transform {
  private readonly md5: Hash = createHash("md5");
  private readonly sha512: Hash = createHash("sha512");
  readonly sniffer: FormatSniffer;
  private size = 0;

  constructor(
    private readonly maxBytes: number,
    options: SnifferOptions & { inspect?: boolean } = {},
  ) {
    super();
    this.sniffer = new FormatSniffer(options);
    this.inspect = options.inspect ?? true;
  }

  /** Off only in the benchmark that measures what inspection costs. */
  private readonly inspect: boolean;

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.size += chunk.length;
    if (this.size > this.maxBytes) {
      done(
        new VitrineError("PAYLOAD_TOO_LARGE", `Image data exceeds the size limit of ${this.maxBytes} bytes`),
      );
      return;
    }
    this.md5.update(chunk);
    this.sha512.update(chunk);
    if (this.inspect) this.sniffer.push(chunk);
    done(null, chunk);
  }

  digests(): Digests {
    return { size: this.size, md5: this.md5.digest("hex"), sha512: this.sha512.digest("hex") };
  }
}
