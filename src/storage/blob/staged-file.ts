import fs from "node:fs";
import { Writable } from "node:stream";
import { promisify } from "node:util";

const write = promisify(fs.write);
const read = promisify(fs.read);
const open = promisify(fs.open);
const close = promisify(fs.close);
const ftruncate = promisify(fs.ftruncate);
const fdatasync = promisify(fs.fdatasync);

/** O_DIRECT writes start and end on multiples of this (covers 512-byte and 4 KiB devices). */
const BLOCK = 4096;
/** One write each: data is staged in two buffers of this size, one filling while the other is written. */
const STAGE_BYTES = 4 * 1024 * 1024;
/**
 * A stream's first stage (most uploads under load are small: 64 clients uploading 256 KiB held
 * 8 MiB of stages each); the second stage is made only once the first is full.
 */
const FIRST_STAGE_BYTES = 1024 * 1024;
/** Staging buffers kept for the next files, by size; more are made when more files are open. */
const POOL_MAX = 4;
/** Through the page cache only: data written since the last flush that starts another one. */
const FLUSH_EVERY_BYTES = 64 * 1024 * 1024;

/** Staging buffers whose memory is aligned for O_DIRECT (found by probing: Node does not say where a buffer lives), by size. */
const alignedPools = new Map<number, Buffer[]>();

/**
 * A file written from the start in order (an image blob: a writer's, or a resumable upload's
 * appender), through two staging buffers, in 4 MiB writes, with O_DIRECT where the filesystem
 * takes it. Why not the page cache: on this service's machines a page-cache write costs about
 * 2.6 s of kernel time per GiB (every page of a new file is memory touched for the first time)
 * against 0.1 s for a direct write; that was the upload's limit, more than both hashes. An image
 * is written once and read seldom, so caching it while writing gains nothing. Where O_DIRECT is
 * refused (tmpfs, some network filesystems) the same staging writes go through the page cache,
 * flushed as they go so that the fsync at commit has little left.
 *
 * `length` may end anywhere: the last partial block is written padded and the file truncated to
 * its length; the block stays staged, so appending goes on from there (a resumable upload's
 * checkpoints fall anywhere).
 */
export class StagedFile {
  private stage: Buffer;
  /** The other stage: none until the first is full, then a full-size one. */
  private spare: Buffer | null = null;
  /** File offset of the stage's first byte (a multiple of BLOCK). */
  private base: number;
  /** Bytes staged, not all written yet. */
  private fill: number;
  private writing: Promise<void> | null = null;
  private failure: unknown = null;
  private unflushed = 0;
  private flushing = false;

  private constructor(
    private fd: number,
    private direct: boolean,
    private readonly file: string,
    first: Buffer,
  ) {
    this.stage = first;
    this.base = 0;
    this.fill = 0;
  }

  /**
   * A new file (none may exist at `file`), mode 0600. `smallStart`: a smaller first stage (a
   * stream, flushed only at its end; an appender's checkpoints fall on whole stages).
   */
  static async create(file: string, { smallStart = false } = {}): Promise<StagedFile> {
    const { O_CREAT, O_EXCL, O_WRONLY } = fs.constants;
    await close(await open(file, O_CREAT | O_EXCL | O_WRONLY, 0o600));
    return StagedFile.opened(file, 0, smallStart ? FIRST_STAGE_BYTES : STAGE_BYTES);
  }

  /** An existing file, written on from `length` (what is after it is the caller's to truncate). */
  static async reopen(file: string, length: number): Promise<StagedFile> {
    return StagedFile.opened(file, length, STAGE_BYTES);
  }

  private static async opened(file: string, length: number, firstStage: number): Promise<StagedFile> {
    const first = await alignedBuffer(file, firstStage);
    const fd = first
      ? await open(file, fs.constants.O_RDWR | fs.constants.O_DIRECT!).catch((err: unknown) => {
          release(first);
          throw err;
        })
      : await open(file, fs.constants.O_RDWR);
    const staged = new StagedFile(fd, first !== null, file, first ?? Buffer.allocUnsafeSlow(firstStage));
    return staged.startAt(length).catch(async (err: unknown) => {
      await staged.close();
      throw err;
    });
  }

  /** Stages the block `length` falls in (read back from the file), to write on from there. */
  private async startAt(length: number): Promise<this> {
    this.base = length - (length % BLOCK);
    this.fill = length - this.base;
    if (this.fill > 0) {
      const { bytesRead } = await read(this.fd, this.stage, 0, BLOCK, this.base);
      if (bytesRead < this.fill) throw new Error(`${this.file} is shorter than ${length} bytes`);
    }
    return this;
  }

  /** Whether writes bypass the page cache (O_DIRECT) now. */
  get bypassesCache(): boolean {
    return this.direct;
  }

  /** Bytes appended so far. */
  get length(): number {
    return this.base + this.fill;
  }

  /** Stages `chunk`; returns a promise only when the caller must wait (a write still in flight). */
  append(chunk: Buffer): Promise<void> | null {
    if (this.failure) return Promise.reject(this.failure);
    let offset = 0;
    while (offset < chunk.length) {
      const n = chunk.copy(this.stage, this.fill, offset);
      this.fill += n;
      offset += n;
      if (this.fill < this.stage.length) continue;
      if (this.writing || this.spare?.length !== STAGE_BYTES) {
        // Both stages full (the caller waits for the write in flight), or no full-size spare yet.
        const rest = chunk.subarray(offset);
        return this.makeRoom().then(() => this.append(rest) ?? undefined);
      }
      this.writeStage();
    }
    return null;
  }

  /**
   * Everything appended is in the file, which ends at `length` (not yet durable: see `datasync`).
   * The last partial block stays staged: appends go on after it. Appends may go on during a
   * flush only when `length` is a multiple of the stage (4 MiB).
   */
  async flush(): Promise<void> {
    // At a stage's end nothing is staged: the write in flight holds all, and appends may go on
    // meanwhile (a resumable upload's checkpoint at a part's end). Elsewhere the caller waits.
    const nothingStaged = this.fill === 0;
    await this.writing;
    if (this.failure) throw this.failure;
    if (nothingStaged || this.fill === 0) return;
    const padded = this.direct ? Math.ceil(this.fill / BLOCK) * BLOCK : this.fill;
    if (padded > this.fill) this.stage.fill(0, this.fill, padded);
    await this.writeFully(this.stage, padded, this.base);
    if (padded > this.fill) await ftruncate(this.fd, this.base + this.fill);
  }

  async datasync(): Promise<void> {
    await fdatasync(this.fd);
  }

  /** Closes the file (after `flush()` unless what is staged is to be dropped). */
  async close(): Promise<void> {
    await this.writing?.catch(() => {});
    const fd = this.fd;
    if (fd < 0) return;
    this.fd = -1;
    await close(fd);
    release(this.stage);
    if (this.spare) release(this.spare);
  }

  /** Waits for the write in flight, makes the full-size spare if there is none, and writes the stage. */
  private async makeRoom(): Promise<void> {
    await this.writing;
    if (this.failure) throw this.failure;
    if (this.spare?.length !== STAGE_BYTES) {
      if (this.spare) release(this.spare);
      this.spare = null;
      this.spare =
        (this.direct && (await alignedBuffer(this.file, STAGE_BYTES))) || Buffer.allocUnsafeSlow(STAGE_BYTES);
    }
    this.writeStage();
  }

  /** Hands the full stage to a write and stages into the spare meanwhile. */
  private writeStage(): void {
    const full = this.stage;
    const at = this.base;
    this.stage = this.spare!;
    this.spare = full;
    this.base += full.length;
    this.fill = 0;
    this.writing = this.writeFully(full, full.length, at)
      .then(() => this.flushBehind(full.length))
      .catch((err: unknown) => {
        this.failure ??= err;
      })
      .finally(() => (this.writing = null));
  }

  private async writeFully(buffer: Buffer, length: number, at: number): Promise<void> {
    let done = 0;
    while (done < length) {
      try {
        const { bytesWritten } = await write(this.fd, buffer, done, length - done, at + done);
        done += bytesWritten;
      } catch (err) {
        // Aligned for one device, not for another: the rest goes through the page cache.
        if (!this.direct || (err as NodeJS.ErrnoException).code !== "EINVAL") throw err;
        await this.leaveDirect();
      }
    }
  }

  private async leaveDirect(): Promise<void> {
    const fd = await open(this.file, fs.constants.O_RDWR);
    await close(this.fd);
    this.fd = fd;
    this.direct = false;
  }

  /** Through the page cache: starts an fdatasync every FLUSH_EVERY_BYTES, one at a time, not awaited. */
  private flushBehind(bytes: number): void {
    if (this.direct) return;
    this.unflushed += bytes;
    if (this.flushing || this.unflushed < FLUSH_EVERY_BYTES) return;
    this.flushing = true;
    this.unflushed = 0;
    fs.fdatasync(this.fd, () => (this.flushing = false));
  }
}

/** A new file at `file` as a writable stream: ended, everything is in it; destroyed, it is closed. */
export async function stagedFileStream(file: string): Promise<Writable> {
  const staged = await StagedFile.create(file, { smallStart: true });
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      const wait = staged.append(chunk);
      if (wait) wait.then(() => done(), done);
      else done();
    },
    final(done) {
      staged.flush().then(() => done(), done);
    },
    destroy(err, done) {
      staged.close().then(
        () => done(err),
        (closing: Error) => done(err ?? closing),
      );
    },
  });
}

/**
 * A staging buffer of `size` aligned for O_DIRECT on the filesystem of `file`, or null where it
 * takes no O_DIRECT. From the pool, else a new one whose start is found by probing (Node does not
 * say where a buffer's memory lives; O_DIRECT refuses, EINVAL, memory not aligned for the
 * device): the first offset from which a write of the whole buffer is taken is the one. The probe
 * writes into a file of its own beside `file`, removed afterwards.
 */
async function alignedBuffer(file: string, size: number): Promise<Buffer | null> {
  const direct = fs.constants.O_DIRECT;
  if (direct === undefined) return null;
  const pooled = alignedPools.get(size)?.pop();
  if (pooled) return pooled;
  const probe = `${file}.probe`;
  const { O_CREAT, O_EXCL, O_WRONLY } = fs.constants;
  const fd = await open(probe, O_CREAT | O_EXCL | O_WRONLY | direct, 0o600).catch(
    async (err: NodeJS.ErrnoException) => {
      await fs.promises.rm(probe, { force: true });
      if (err.code === "EINVAL") return null; // the filesystem does not do O_DIRECT
      throw err;
    },
  );
  if (fd === null) return null;
  try {
    return await probeAligned(fd, size);
  } finally {
    await close(fd);
    await fs.promises.rm(probe, { force: true });
  }
}

async function probeAligned(fd: number, size: number): Promise<Buffer | null> {
  const raw = Buffer.allocUnsafeSlow(size + BLOCK);
  for (let start = 0; start < BLOCK; start += 16) {
    const candidate = raw.subarray(start, start + size);
    try {
      await write(fd, candidate, 0, size, 0);
      aligned.add(candidate);
      return candidate;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EINVAL") throw err;
    }
  }
  return null;
}

/** Buffers probed aligned: only those go back to the pool. */
const aligned = new WeakSet<Buffer>();

function release(buffer: Buffer): void {
  if (!aligned.has(buffer)) return;
  const pool = alignedPools.get(buffer.length) ?? [];
  alignedPools.set(buffer.length, pool);
  if (pool.length < POOL_MAX) pool.push(buffer);
}
