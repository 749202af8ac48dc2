import fsp from "node:fs/promises";
import type { AppenderCheckpoint, BlobAppender } from "../../core/ports/blob-store.js";

/** A directory store's checkpoint: the pending file and where the blob goes once committed. */
interface FsAppenderState {
  /** The pending file's name under the store's pending directory. */
  file: string;
  key: string;
}

/** fdatasync costs little per call on a file being written in order; this keeps the calls few. */
const CHECKPOINT_BYTES = 32 * 1024 * 1024;
/** Appends are written in batches of this size (one writev each, not one write per chunk). */
const BATCH_BYTES = 1024 * 1024;
/** Past this much handed to writes and not yet written, appends wait (bounded memory). */
const MAX_QUEUED_BYTES = 8 * 1024 * 1024;

/**
 * A pending file appended to by a resumable upload: appends are batched into queued writes at
 * the end, `sync()` writes what is batched, waits for those queued so far and fdatasyncs (the checkpoint is the file's length
 * then); a resume truncates the file to its checkpoint, dropping what was written after it.
 */
export class FsBlobAppender implements BlobAppender {
  readonly checkpointBytes = CHECKPOINT_BYTES;
  /** The writes started so far, in order. */
  private written: Promise<void> = Promise.resolve();
  private failure: unknown = null;
  /** Appended, not yet handed to a write. */
  private batch: Buffer[] = [];
  private batchBytes = 0;
  /** Handed to writes not yet done. */
  private queuedBytes = 0;

  private constructor(
    private readonly handle: fsp.FileHandle,
    private readonly state: FsAppenderState,
    private readonly paths: { pending: string; final: string },
    private position: number,
    private readonly commitFile: (pending: string, final: string) => Promise<void>,
  ) {}

  static async create(
    paths: { pending: string; final: string },
    state: FsAppenderState,
    commitFile: (pending: string, final: string) => Promise<void>,
  ): Promise<FsBlobAppender> {
    const handle = await fsp.open(paths.pending, "wx", 0o600);
    return new FsBlobAppender(handle, state, paths, 0, commitFile);
  }

  static async resume(
    paths: { pending: string; final: string },
    checkpoint: AppenderCheckpoint,
    commitFile: (pending: string, final: string) => Promise<void>,
  ): Promise<FsBlobAppender> {
    const handle = await fsp.open(paths.pending, "r+");
    try {
      const { size } = await handle.stat();
      if (size < checkpoint.offset) {
        throw new Error(`the pending file holds ${size} bytes, its checkpoint ${checkpoint.offset}`);
      }
      await handle.truncate(checkpoint.offset);
    } catch (err) {
      await handle.close();
      throw err;
    }
    return new FsBlobAppender(handle, stateOf(checkpoint), paths, checkpoint.offset, commitFile);
  }

  get offset(): number {
    return this.position;
  }

  async append(chunk: Buffer): Promise<void> {
    if (this.failure) throw this.failure;
    this.batch.push(chunk);
    this.batchBytes += chunk.length;
    this.position += chunk.length;
    if (this.batchBytes >= BATCH_BYTES) this.flush();
    // Writes go on behind the caller; it waits only when too much is still on its way to disk.
    if (this.queuedBytes > MAX_QUEUED_BYTES) await this.written;
    if (this.failure) throw this.failure;
  }

  /** Starts writing what was appended since the last flush, in one writev. */
  private flush(): void {
    if (this.batchBytes === 0) return;
    const chunks = this.batch;
    const bytes = this.batchBytes;
    const at = this.position - bytes;
    this.batch = [];
    this.batchBytes = 0;
    this.queuedBytes += bytes;
    this.written = this.written
      .then(() => writeAll(this.handle, chunks, at))
      .catch((err: unknown) => {
        this.failure ??= err;
      })
      .finally(() => (this.queuedBytes -= bytes));
  }

  async sync(): Promise<AppenderCheckpoint> {
    const offset = this.position;
    this.flush();
    await this.written;
    if (this.failure) throw this.failure;
    await this.handle.datasync();
    return { offset, store: { ...this.state } };
  }

  async commit(): Promise<void> {
    await this.sync();
    await this.handle.close();
    await this.commitFile(this.paths.pending, this.paths.final);
  }

  async close(): Promise<void> {
    this.flush();
    await this.written;
    await this.handle.close().catch(() => {});
  }
}

async function writeAll(handle: fsp.FileHandle, chunks: Buffer[], at: number): Promise<void> {
  let rest = chunks;
  let position = at;
  while (rest.length > 0) {
    const { bytesWritten } = await handle.writev(rest, position);
    position += bytesWritten;
    // A short write: what is left of the batch goes again.
    let skip = bytesWritten;
    while (rest.length > 0 && skip >= rest[0]!.length) {
      skip -= rest[0]!.length;
      rest = rest.slice(1);
    }
    if (skip > 0) rest = [rest[0]!.subarray(skip), ...rest.slice(1)];
  }
}

export function stateOf(checkpoint: AppenderCheckpoint): FsAppenderState {
  const { file, key } = checkpoint.store;
  // The name comes back from the catalog: only a pending file's own shape, nothing that climbs out.
  if (typeof file !== "string" || !/^[A-Za-z0-9_-]+\.[0-9a-f]+$/.test(file) || typeof key !== "string") {
    throw new Error("not a directory store's checkpoint");
  }
  return { file, key };
}
