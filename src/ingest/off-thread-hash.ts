import { Worker } from "node:worker_threads";

/** Data is handed to the worker in batches of this size (one message each, not one per chunk). */
const BATCH_BYTES = 1024 * 1024;
/** Past this much data not yet hashed by the worker, the stream waits (bounded memory). */
const MAX_IN_FLIGHT_BYTES = 8 * 1024 * 1024;

const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const hash = require("node:crypto").createHash(workerData.algorithm);
parentPort.on("message", (data) => {
  if (data === null) parentPort.postMessage({ digest: hash.digest("hex") });
  else {
    hash.update(new Uint8Array(data));
    parentPort.postMessage({ hashed: data.byteLength });
  }
});`;

/**
 * A hash computed on a worker thread, so that an upload's two hashes (MD5 here, SHA-512 there)
 * use both cores instead of taking turns on one. The data is copied once into batches that are
 * transferred, not cloned; back-pressure keeps at most MAX_IN_FLIGHT_BYTES waiting.
 */
export class OffThreadHash {
  private readonly worker: Worker;
  private batch = Buffer.allocUnsafe(BATCH_BYTES);
  private batchLength = 0;
  private inFlight = 0;
  private drained: (() => void) | null = null;
  private result: ((digest: string) => void) | null = null;
  private failure: Error | null = null;

  constructor(algorithm: string) {
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { algorithm } });
    this.worker.on("message", (m: { hashed?: number; digest?: string }) => {
      if (m.hashed !== undefined) {
        this.inFlight -= m.hashed;
        if (this.inFlight <= MAX_IN_FLIGHT_BYTES / 2) this.release();
      } else if (m.digest !== undefined) this.result?.(m.digest);
    });
    this.worker.on("error", (err) => {
      this.failure = err;
      this.release();
    });
    this.worker.unref();
  }

  /** Adds data; resolves at once unless the worker is behind, then when it has caught up. */
  update(chunk: Buffer): Promise<void> | null {
    if (this.failure) return Promise.reject(this.failure);
    let offset = 0;
    while (offset < chunk.length) {
      const n = Math.min(chunk.length - offset, BATCH_BYTES - this.batchLength);
      chunk.copy(this.batch, this.batchLength, offset, offset + n);
      this.batchLength += n;
      offset += n;
      if (this.batchLength === BATCH_BYTES) this.send();
    }
    if (this.inFlight <= MAX_IN_FLIGHT_BYTES) return null;
    return new Promise((resolve, reject) => {
      this.drained = () => (this.failure ? reject(this.failure) : resolve());
    });
  }

  /** The hex digest of everything added; the worker ends afterwards. */
  async digest(): Promise<string> {
    if (this.failure) throw this.failure;
    if (this.batchLength > 0) this.send();
    const digest = await new Promise<string>((resolve, reject) => {
      this.result = resolve;
      this.worker.once("error", reject);
      this.worker.postMessage(null);
    });
    await this.worker.terminate();
    return digest;
  }

  /** Stops the worker without a result (a failed or cancelled ingest). */
  destroy(): void {
    void this.worker.terminate();
  }

  private send(): void {
    const data = this.batch.buffer.slice(this.batch.byteOffset, this.batch.byteOffset + this.batchLength);
    this.inFlight += this.batchLength;
    this.worker.postMessage(data, [data]);
    this.batchLength = 0;
  }

  private release(): void {
    const waiting = this.drained;
    this.drained = null;
    waiting?.();
  }
}
