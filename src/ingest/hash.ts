import { Transform, type TransformCallback } from "node:stream";
import { OffThreadHash } from "./off-thread-hash.js";
import { VitrineError } from "../core/errors.js";
import { FormatSniffer, type SnifferOptions } from "../inspect/sniffer.js";

export interface Digests {
  size: number;
  md5: string;
  sha512: string;
}

/**
 * A pass-through stage that measures what flows through it: byte count, MD5, SHA-512 and the
 * format sniffer, all in the same pass as the write. It refuses to pass more than
 * `maxBytes`, so an endless source cannot fill the disk.
 */
export class MeasuringStream extends Transform {
  /** On their own thread: the two hashes are the ingest's main cost, beside the HTTP and the writes. */
  private readonly hashes = new OffThreadHash(["md5", "sha512"]);
  readonly sniffer: FormatSniffer;
  private size = 0;

  constructor(
    private readonly maxBytes: number,
    options: SnifferOptions & { inspect?: boolean; onBytes?: (bytesRead: number) => void } = {},
  ) {
    super();
    this.sniffer = new FormatSniffer(options);
    this.inspect = options.inspect ?? true;
    this.onBytes = options.onBytes;
  }

  private readonly onBytes: ((bytesRead: number) => void) | undefined;

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
    this.onBytes?.(this.size);
    const behind = this.hashes.update(chunk);
    if (this.inspect) this.sniffer.push(chunk);
    if (behind) behind.then(() => done(null, chunk), done);
    else done(null, chunk);
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    // A stream that ended keeps its worker until digests() has read the result.
    if (err || !this.writableFinished) this.hashes.destroy();
    callback(err);
  }

  /** Size and digests of everything that passed; call once the stream has ended. */
  async digests(): Promise<Digests> {
    const { md5, sha512 } = await this.hashes.digests();
    return { size: this.size, md5: md5!, sha512: sha512! };
  }
}
