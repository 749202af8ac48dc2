import fsp from "node:fs/promises";
import type { AppenderCheckpoint, BlobAppender } from "../../core/ports/blob-store.js";
import { StagedFile } from "./staged-file.js";

/** A directory store's checkpoint: the pending file and where the blob goes once committed. */
interface FsAppenderState {
  /** The pending file's name under the store's pending directory. */
  file: string;
  key: string;
}

/** fdatasync costs little per call on a file being written in order; this keeps the calls few. */
const CHECKPOINT_BYTES = 32 * 1024 * 1024;

/**
 * A pending file appended to by a resumable upload (staged 4 MiB writes, O_DIRECT where taken:
 * staged-file.ts); `sync()` writes what is staged and fdatasyncs (the checkpoint is the file's
 * length then); a resume truncates the file to its checkpoint, dropping what was written after it.
 */
export class FsBlobAppender implements BlobAppender {
  readonly checkpointBytes = CHECKPOINT_BYTES;

  private constructor(
    private readonly file: StagedFile,
    private readonly state: FsAppenderState,
    private readonly paths: { pending: string; final: string },
    private readonly commitFile: (pending: string, final: string) => Promise<void>,
  ) {}

  static async create(
    paths: { pending: string; final: string },
    state: FsAppenderState,
    commitFile: (pending: string, final: string) => Promise<void>,
  ): Promise<FsBlobAppender> {
    return new FsBlobAppender(await StagedFile.create(paths.pending), state, paths, commitFile);
  }

  static async resume(
    paths: { pending: string; final: string },
    checkpoint: AppenderCheckpoint,
    commitFile: (pending: string, final: string) => Promise<void>,
  ): Promise<FsBlobAppender> {
    const { size } = await fsp.stat(paths.pending);
    if (size < checkpoint.offset) {
      throw new Error(`the pending file holds ${size} bytes, its checkpoint ${checkpoint.offset}`);
    }
    await fsp.truncate(paths.pending, checkpoint.offset);
    const file = await StagedFile.reopen(paths.pending, checkpoint.offset);
    return new FsBlobAppender(file, stateOf(checkpoint), paths, commitFile);
  }

  get offset(): number {
    return this.file.length;
  }

  async append(chunk: Buffer): Promise<void> {
    // Writes go on behind the caller; it waits only while both stages are full.
    await this.file.append(chunk);
  }

  async sync(): Promise<AppenderCheckpoint> {
    const offset = this.file.length;
    await this.file.flush();
    await this.file.datasync();
    return { offset, store: { ...this.state } };
  }

  async commit(): Promise<void> {
    await this.sync();
    await this.file.close();
    await this.commitFile(this.paths.pending, this.paths.final);
  }

  async close(): Promise<void> {
    await this.file.flush().catch(() => {});
    await this.file.close();
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
