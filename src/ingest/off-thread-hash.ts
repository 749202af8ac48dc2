import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

/** hash-wasm, whose MD5 and SHA-512 can save their state (resolved here: the worker is eval'd). */
const SAVEABLE_HASHES_MODULE = createRequire(import.meta.url).resolve("hash-wasm");

interface WorkerMessage {
  session: number;
  hashed?: number;
  data?: ArrayBuffer;
  digests?: string[];
  states?: Uint8Array[];
}

/** Data is handed to the worker in batches of this size (one message each, not one per chunk). */
const BATCH_BYTES = 1024 * 1024;
/** Past this much data not yet hashed by the worker, the stream waits (bounded memory). */
const MAX_IN_FLIGHT_BYTES = 8 * 1024 * 1024;
/** Idle hash threads kept for the next ingests (one per core is what hashing can use). */
const IDLE_WORKERS = 2;

// One session at a time per worker: started, fed batches, then ended (digests) or dropped. Work
// is chained so that a saveable session's asynchronous start comes before its first batch.
const WORKER_SOURCE = `
const { parentPort } = require("node:worker_threads");
const { createHash } = require("node:crypto");
// Node's hashes are the fastest; hash-wasm's can save their state (a resumable upload's checkpoint).
async function saveableHashes(algorithms, { module, states }) {
  const wasm = require(module);
  const factories = { md5: wasm.createMD5, sha512: wasm.createSHA512 };
  return Promise.all(algorithms.map(async (algorithm, i) => {
    const hash = await factories[algorithm]();
    hash.init();
    if (states) hash.load(states[i]);
    return { update: (b) => hash.update(b), digest: () => hash.digest("hex"), save: () => hash.save() };
  }));
}
let session = null;
let hashes = Promise.resolve([]);
parentPort.on("message", (m) => {
  if (m.start !== undefined) {
    session = m.start;
    hashes = m.saveable === null
      ? Promise.resolve(m.algorithms.map((a) => createHash(a)))
      : saveableHashes(m.algorithms, m.saveable);
    return;
  }
  if (m.session !== session) return; // a dropped session's batches still queued
  const id = session;
  hashes = hashes.then((hs) => {
    if (m.end) parentPort.postMessage({ session: id, digests: hs.map((h) => h.digest("hex")) });
    else if (m.save) parentPort.postMessage({ session: id, states: hs.map((h) => h.save()) });
    else if (!m.drop) {
      const bytes = new Uint8Array(m.data, 0, m.length);
      for (const h of hs) h.update(bytes);
      // The batch goes back to be filled again: an upload reuses a few buffers, no garbage.
      parentPort.postMessage({ session: id, hashed: m.length, data: m.data }, [m.data]);
    }
    return hs;
  });
});`;

/**
 * Hash threads, kept between ingests: starting a worker thread costs tens of milliseconds and a
 * V8 heap of its own (a small upload paid more for its thread than for its bytes, and 64 clients
 * uploading at once held dozens of heaps). A thread serves one ingest at a time; a broken one is
 * not taken back.
 */
const idleWorkers: Worker[] = [];
let sessions = 0;

function leaseWorker(): Worker {
  const worker = idleWorkers.pop() ?? new Worker(WORKER_SOURCE, { eval: true });
  worker.setMaxListeners(0);
  return worker;
}

function returnWorker(worker: Worker, broken: boolean): void {
  if (!broken && idleWorkers.length < IDLE_WORKERS) {
    worker.unref();
    idleWorkers.push(worker);
  } else void worker.terminate();
}

/**
 * Hashes computed on a worker thread. An upload's main thread parses HTTP, inspects and writes;
 * both its hashes (MD5 and SHA-512) run here, on the other core, instead of taking turns with
 * that work (MD5 on the main thread held uploads at 0.31 of one core's MD5 speed). The data is
 * copied once into batches that are transferred, not cloned; back-pressure keeps at most
 * MAX_IN_FLIGHT_BYTES waiting.
 *
 * A saveable hash (a resumable upload's) uses hash-wasm instead of Node's OpenSSL: slower, but its
 * state can be saved at a checkpoint and loaded again in another process.
 */
export class OffThreadHash {
  private readonly worker: Worker;
  private readonly session = ++sessions;
  private released = false;
  private broken = false;
  /** Batches the worker has hashed and handed back, ready to be filled again. */
  private readonly free: ArrayBuffer[] = [];
  private batch = this.emptyBatch();
  private batchLength = 0;
  private inFlight = 0;
  private drained: (() => void) | null = null;
  private result: ((digests: string[]) => void) | null = null;
  private failure: Error | null = null;
  private saved: ((states: Uint8Array[]) => void)[] = [];

  /**
   * `saveable`: null for Node's hashes; else hash-wasm's, started fresh (`states` null) or from
   * states `save()` returned.
   */
  constructor(
    private readonly algorithms: readonly string[],
    saveable: { states: Uint8Array[] | null } | null = null,
  ) {
    this.worker = leaseWorker();
    this.worker.on("message", this.onMessage);
    this.worker.on("error", this.onError);
    this.worker.unref();
    this.worker.postMessage({
      start: this.session,
      algorithms,
      saveable: saveable && { module: SAVEABLE_HASHES_MODULE, states: saveable.states },
    });
  }

  private readonly onMessage = (m: WorkerMessage) => {
    if (m.session !== this.session) return;
    if (m.states !== undefined) this.saved.shift()?.(m.states);
    else if (m.hashed !== undefined) {
      if (m.data) this.free.push(m.data);
      this.inFlight -= m.hashed;
      if (this.inFlight <= MAX_IN_FLIGHT_BYTES / 2) this.release();
    } else if (m.digests !== undefined) this.result?.(m.digests);
  };

  private readonly onError = (err: Error) => {
    this.failure = err;
    this.broken = true;
    this.failed?.(err);
    this.release();
  };

  private failed: ((err: Error) => void) | null = null;

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
    // Someone waits for the worker now: it keeps the process alive until it answers.
    this.worker.ref();
    return new Promise((resolve, reject) => {
      this.drained = () => (this.failure ? reject(this.failure) : resolve());
    });
  }

  /** The hex digest of everything added, by algorithm; the thread goes back to the pool afterwards. */
  async digests(): Promise<Record<string, string>> {
    if (this.failure) throw this.failure;
    if (this.batchLength > 0) this.send();
    this.worker.ref();
    try {
      const digests = await new Promise<string[]>((resolve, reject) => {
        this.result = resolve;
        this.failed = reject;
        this.worker.postMessage({ session: this.session, end: true });
      });
      return Object.fromEntries(this.algorithms.map((a, i) => [a, digests[i]!]));
    } finally {
      this.giveBack();
    }
  }

  /**
   * The state of each hash after everything added so far (a saveable hash only), to start
   * another one from with `new OffThreadHash(algorithms, { states })`.
   */
  async save(): Promise<Uint8Array[]> {
    if (this.failure) throw this.failure;
    if (this.batchLength > 0) this.send();
    this.worker.ref();
    try {
      return await new Promise<Uint8Array[]>((resolve, reject) => {
        this.failed = reject;
        this.saved.push((states) => {
          this.failed = null;
          resolve(states);
        });
        this.worker.postMessage({ session: this.session, save: true });
      });
    } finally {
      if (this.saved.length === 0 && !this.drained && !this.result) this.worker.unref();
    }
  }

  /** Ends without a result (a failed or cancelled ingest); the thread goes back to the pool. */
  destroy(): void {
    if (this.released) return;
    this.worker.postMessage({ session: this.session, drop: true });
    this.giveBack();
  }

  private giveBack(): void {
    if (this.released) return;
    this.released = true;
    this.worker.off("message", this.onMessage);
    this.worker.off("error", this.onError);
    returnWorker(this.worker, this.broken);
  }

  private send(): void {
    const data = this.batch.buffer as ArrayBuffer;
    this.inFlight += this.batchLength;
    this.worker.postMessage({ session: this.session, data, length: this.batchLength }, [data]);
    this.batch = this.emptyBatch();
    this.batchLength = 0;
  }

  /** A batch over a whole buffer of its own (transferable), reused when the worker gave one back. */
  private emptyBatch(): Buffer {
    return Buffer.from(this.free.pop() ?? new ArrayBuffer(BATCH_BYTES));
  }

  private release(): void {
    // Nobody waits any more (unless for the digests): an abandoned ingest does not hold the process.
    if (this.drained && !this.result) this.worker.unref();
    const waiting = this.drained;
    this.drained = null;
    waiting?.();
  }
}
