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

/**
 * A pending file appended to by a resumable upload: appends are queued writes at the end,
 * `sync()` waits for those queued so far and fdatasyncs (the checkpoint is the file's length
 * then); a resume truncates the file to its checkpoint, dropping what was written after it.
 */
export class FsBlobAppender implements BlobAppender {
  readonly checkpointBytes = CHECKPOINT_BYTES;
  private written: Promise<void> = Promise.resolve();
  private failure: unknown = null;

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

  append(chunk: Buffer): Promise<void> {
    if (this.failure) return Promise.reject(this.failure as Error);
    const at = this.position;
    this.position += chunk.length;
    // Queued, not awaited one by one: the caller waits only when it wants the data on disk.
    const write = this.written.then(() => writeAll(this.handle, chunk, at));
    this.written = write.catch((err: unknown) => {
      this.failure ??= err;
    });
    return write;
  }

  async sync(): Promise<AppenderCheckpoint> {
    const offset = this.position;
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
    await this.written;
    await this.handle.close().catch(() => {});
  }
}

async function writeAll(handle: fsp.FileHandle, chunk: Buffer, at: number): Promise<void> {
  for (let done = 0; done < chunk.length;) {
    const { bytesWritten } = await handle.write(chunk, done, chunk.length - done, at + done);
    done += bytesWritten;
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
