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
/** Hash threads: hashing is CPU work, and the machines this runs on have two cores. */
const THREADS = 2;

// Each thread serves many ingests (sessions) side by side: started, fed batches, then ended
// (digests) or dropped. A session's work is chained, so that a saveable session's asynchronous
// start comes before its first batch.
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
const sessions = new Map();
parentPort.on("message", (m) => {
  if (m.start !== undefined) {
    sessions.set(m.start, m.saveable === null
      ? Promise.resolve(m.algorithms.map((a) => createHash(a)))
      : saveableHashes(m.algorithms, m.saveable));
    return;
  }
  const id = m.session;
  const hashes = sessions.get(id);
  if (!hashes) return;
  sessions.set(id, hashes.then((hs) => {
    if (m.end) parentPort.postMessage({ session: id, digests: hs.map((h) => h.digest("hex")) });
    else if (m.save) parentPort.postMessage({ session: id, states: hs.map((h) => h.save()) });
    else if (!m.drop) {
      const bytes = new Uint8Array(m.data, 0, m.length);
      for (const h of hs) h.update(bytes);
      // The batch goes back to be filled again: an upload reuses a few buffers, no garbage.
      parentPort.postMessage({ session: id, hashed: m.length, data: m.data }, [m.data]);
    }
    return hs;
  }));
  if (m.end || m.drop) sessions.delete(id);
});`;

/** What a session hears from its thread. */
interface SessionListener {
  message(m: WorkerMessage): void;
  error(err: Error): void;
}

/**
 * One hash thread, shared by the sessions it serves. Starting a worker thread costs tens of
 * milliseconds and a V8 heap of its own: a small upload paid more for its thread than for its
 * bytes, and 64 clients uploading at once held dozens of heaps. The thread keeps the process
 * alive only while some session waits for it.
 */
class HashThread {
  readonly worker = new Worker(WORKER_SOURCE, { eval: true });
  readonly sessions = new Map<number, SessionListener>();
  broken = false;
  private holds = 0;

  constructor() {
    this.worker.on("message", (m: WorkerMessage) => this.sessions.get(m.session)?.message(m));
    this.worker.on("error", (err) => {
      this.broken = true;
      for (const listener of this.sessions.values()) listener.error(err);
    });
    // After the listeners: adding one refs the worker's port again.
    this.worker.unref();
  }

  hold(): void {
    if (this.holds++ === 0) this.worker.ref();
  }

  letGo(): void {
    if (--this.holds === 0) this.worker.unref();
  }
}

const threads: HashThread[] = [];
let sessions = 0;

/** The thread serving the fewest sessions (a broken one is replaced). */
function threadForSession(): HashThread {
  for (let i = threads.length - 1; i >= 0; i--) if (threads[i]!.broken) threads.splice(i, 1);
  if (threads.length < THREADS) {
    const thread = new HashThread();
    threads.push(thread);
    return thread;
  }
  return threads.reduce((a, b) => (b.sessions.size < a.sessions.size ? b : a));
}

/**
 * Hashes computed on a hash thread. An upload's main thread parses HTTP, inspects and writes;
 * both its hashes (MD5 and SHA-512) run there, on the other core, instead of taking turns with
 * that work (MD5 on the main thread held uploads at 0.31 of one core's MD5 speed). The data is
 * copied once into batches that are transferred, not cloned; back-pressure keeps at most
 * MAX_IN_FLIGHT_BYTES waiting.
 *
 * A saveable hash (a resumable upload's) uses hash-wasm instead of Node's OpenSSL: slower, but its
 * state can be saved at a checkpoint and loaded again in another process.
 */
export class OffThreadHash {
  private readonly thread = threadForSession();
  private readonly session = ++sessions;
  private ended = false;
  private holding = false;
  /** Batches the worker has hashed and handed back, ready to be filled again. */
  private readonly free: ArrayBuffer[] = [];
  private batch: Buffer | null = null;
  private batchLength = 0;
  private inFlight = 0;
  private drained: (() => void) | null = null;
  private result: { resolve(digests: string[]): void; reject(err: Error): void } | null = null;
  private failure: Error | null = null;
  private saved: { resolve(states: Uint8Array[]): void; reject(err: Error): void }[] = [];

  /**
   * `saveable`: null for Node's hashes; else hash-wasm's, started fresh (`states` null) or from
   * states `save()` returned.
   */
  constructor(
    private readonly algorithms: readonly string[],
    saveable: { states: Uint8Array[] | null } | null = null,
  ) {
    this.thread.sessions.set(this.session, {
      message: (m) => this.heard(m),
      error: (err) => this.failed(err),
    });
    this.thread.worker.postMessage({
      start: this.session,
      algorithms,
      saveable: saveable && { module: SAVEABLE_HASHES_MODULE, states: saveable.states },
    });
  }

  /** Adds data; resolves at once unless the worker is behind, then when it has caught up. */
  update(chunk: Buffer): Promise<void> | null {
    if (this.failure) return Promise.reject(this.failure);
    let offset = 0;
    while (offset < chunk.length) {
      this.batch ??= Buffer.from(this.free.pop() ?? new ArrayBuffer(BATCH_BYTES));
      const n = Math.min(chunk.length - offset, BATCH_BYTES - this.batchLength);
      chunk.copy(this.batch, this.batchLength, offset, offset + n);
      this.batchLength += n;
      offset += n;
      if (this.batchLength === BATCH_BYTES) this.send();
    }
    if (this.inFlight <= MAX_IN_FLIGHT_BYTES) return null;
    return new Promise((resolve, reject) => {
      const before = this.drained;
      this.drained = () => {
        before?.();
        if (this.failure) reject(this.failure);
        else resolve();
      };
      this.holdWhileWaited();
    });
  }

  /** The hex digest of everything added, by algorithm; the session ends. */
  async digests(): Promise<Record<string, string>> {
    if (this.failure) throw this.failure;
    if (this.batchLength > 0) this.send();
    const digests = await this.ask<string[]>({ end: true }, (waiter) => (this.result = waiter));
    this.result = null;
    this.end();
    return Object.fromEntries(this.algorithms.map((a, i) => [a, digests[i]!]));
  }

  /**
   * The state of each hash after everything added so far (a saveable hash only), to start
   * another one from with `new OffThreadHash(algorithms, { states })`.
   */
  async save(): Promise<Uint8Array[]> {
    if (this.failure) throw this.failure;
    if (this.batchLength > 0) this.send();
    return this.ask<Uint8Array[]>({ save: true }, (waiter) => this.saved.push(waiter));
  }

  /**
   * Ends without a result (a failed or cancelled ingest). Whoever still waits is let go (an update
   * waiting for the thread goes on; digests and states asked for are refused), and with them the
   * thread's hold on the process.
   */
  destroy(): void {
    if (this.ended) return;
    if (!this.thread.broken) this.thread.worker.postMessage({ session: this.session, drop: true });
    const dropped = new Error("the hashes were dropped");
    this.result?.reject(dropped);
    for (const waiter of this.saved.splice(0)) waiter.reject(dropped);
    this.release();
    this.end();
  }

  /** Sends `message` and waits, the thread held, for the answer `register` is given. */
  private ask<T>(
    message: Record<string, unknown>,
    register: (waiter: { resolve(value: T): void; reject(err: Error): void }) => void,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      register({
        resolve: (value) => {
          resolve(value);
          queueMicrotask(() => this.holdWhileWaited());
        },
        reject: (err) => {
          reject(err);
          queueMicrotask(() => this.holdWhileWaited());
        },
      });
      this.holdWhileWaited();
      this.thread.worker.postMessage({ session: this.session, ...message });
    });
  }

  /**
   * The thread keeps the process alive while this session waits for it (an update held back,
   * digests or states asked for), and only then: an abandoned ingest does not hold the process.
   */
  private holdWhileWaited(): void {
    const waited = !this.ended && (this.drained !== null || this.result !== null || this.saved.length > 0);
    if (waited === this.holding) return;
    this.holding = waited;
    if (waited) this.thread.hold();
    else this.thread.letGo();
  }

  private heard(m: WorkerMessage): void {
    if (m.states !== undefined) this.saved.shift()?.resolve(m.states);
    else if (m.hashed !== undefined) {
      if (m.data) this.free.push(m.data);
      this.inFlight -= m.hashed;
      if (this.inFlight <= MAX_IN_FLIGHT_BYTES / 2) this.release();
    } else if (m.digests !== undefined) this.result?.resolve(m.digests);
  }

  private failed(err: Error): void {
    this.failure = err;
    this.result?.reject(err);
    for (const waiter of this.saved.splice(0)) waiter.reject(err);
    this.release();
    this.end();
  }

  private end(): void {
    this.ended = true;
    this.holdWhileWaited();
    this.thread.sessions.delete(this.session);
  }

  private send(): void {
    const data = this.batch!.buffer as ArrayBuffer;
    this.inFlight += this.batchLength;
    this.thread.worker.postMessage({ session: this.session, data, length: this.batchLength }, [data]);
    this.batch = null;
    this.batchLength = 0;
  }

  private release(): void {
    const waiting = this.drained;
    this.drained = null;
    waiting?.();
    this.holdWhileWaited();
  }
}
