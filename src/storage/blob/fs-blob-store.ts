import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { Readable } from "node:stream";
import type { AppenderCheckpoint, BlobAppender, BlobWriter } from "../../core/ports/blob-store.js";
import { FsBlobAppender, stateOf as appenderStateOf } from "./fs-blob-appender.js";
import { stagedFileStream } from "./staged-file.js";
import type { MaintainedBlobStore, StoredBlob, UnfinishedUpload } from "./blob-inventory.js";

const PENDING_DIR = ".pending";
/** A random id made when the directory is first used: the store's identity wherever it is mounted. */
const STORE_ID_FILE = ".store-id";
/** Chunk size of reads (downloads, images made from images). */
export const READ_CHUNK_BYTES = 1024 * 1024;

/**
 * Blobs as files under one directory, readable by the service's user only (0600 in 0700). A writer streams into `.pending/<tag>.<random>`, and commit
 * fsyncs and renames it into place, so a crash never leaves a half-written blob under a real key.
 */
export class FsBlobStore implements MaintainedBlobStore {
  private id: string | null = null;

  constructor(private readonly root: string) {}

  async init(): Promise<this> {
    await fsp.mkdir(path.join(this.root, PENDING_DIR), { recursive: true, mode: 0o700 });
    this.id = await readOrCreateId(path.join(this.root, STORE_ID_FILE));
    return this;
  }

  /** Opens an existing store to read (and delete) without creating anything in it. */
  async open(): Promise<this> {
    const file = path.join(this.root, STORE_ID_FILE);
    const id = await fsp.readFile(file, "utf8").then(
      (text) => text.trim(),
      (err: NodeJS.ErrnoException) => {
        if (err.code === "ENOENT") return null;
        throw err;
      },
    );
    this.id = id ?? "unidentified";
    return this;
  }

  identity(): string {
    if (this.id === null) throw new Error("FsBlobStore used before init()");
    return `directory:${this.id}`;
  }

  locationOf(key: string): string {
    return pathToFileURL(this.pathFor(key)).href;
  }

  /** The file holding a committed blob (a conversion reads it in place instead of copying it). */
  localPath(key: string): string {
    return this.pathFor(key);
  }

  /** Keys are opaque strings; a hash spreads them over sub-directories and keeps paths safe. */
  private pathFor(key: string): string {
    return path.join(this.root, this.inventoryName(key));
  }

  /** A blob's path under the root: `ab/cd/abcd…` (the SHA-256 of its key). */
  inventoryName(key: string): string {
    const digest = createHash("sha256").update(key).digest("hex");
    return path.join(digest.slice(0, 2), digest.slice(2, 4), digest);
  }

  async *inventory(): AsyncIterable<StoredBlob> {
    const hex2 = /^[0-9a-f]{2}$/;
    for (const a of (await fsp.readdir(this.root)).filter((n) => hex2.test(n)).sort()) {
      for (const b of (await fsp.readdir(path.join(this.root, a))).filter((n) => hex2.test(n)).sort()) {
        for (const file of (await fsp.readdir(path.join(this.root, a, b))).sort()) {
          const name = path.join(a, b, file);
          const st = await fsp.stat(path.join(this.root, name)).catch(() => null);
          if (st?.isFile()) yield { name, size: st.size, modifiedAt: st.mtimeMs };
        }
      }
    }
  }

  async *unfinishedUploads(): AsyncIterable<UnfinishedUpload> {
    // Files being written live under pending/ and are swept at start-up (listPendingTags).
  }

  async abortUnfinished(name: string): Promise<void> {
    throw new Error(`a directory store has no unfinished uploads: ${name}`);
  }

  async deleteByInventoryName(name: string): Promise<void> {
    // Only what inventory() lists: two hex levels and a file name, nothing that climbs out.
    if (!/^[0-9a-f]{2}\/[0-9a-f]{2}\/[^/]+$/.test(name) || name.includes("..")) {
      throw new Error(`not a blob name: ${name}`);
    }
    await fsp.rm(path.join(this.root, name), { force: true });
  }

  async createWriter(key: string, tag: string): Promise<BlobWriter> {
    if (!/^[A-Za-z0-9_-]+$/.test(tag)) throw new Error(`invalid pending tag ${tag}`);
    const pending = path.join(this.root, PENDING_DIR, `${tag}.${randomBytes(6).toString("hex")}`);
    const final = this.pathFor(key);
    const stream = await stagedFileStream(pending);
    let settled = false;
    const closed = new Promise<void>((resolve) => {
      if (stream.closed) resolve();
      else stream.once("close", () => resolve());
    });
    return {
      stream,
      commit: async () => {
        await closed;
        await this.commitFile(pending, final);
        settled = true;
      },
      abort: async () => {
        if (settled) return;
        settled = true;
        // Writes still queued fail once the stream is destroyed; they were being thrown away anyway.
        stream.on("error", () => {});
        stream.destroy();
        await closed;
        await fsp.rm(pending, { force: true });
      },
    };
  }

  async createAppender(key: string, tag: string): Promise<BlobAppender> {
    if (!/^[A-Za-z0-9_-]+$/.test(tag)) throw new Error(`invalid pending tag ${tag}`);
    const file = `${tag}.${randomBytes(6).toString("hex")}`;
    return FsBlobAppender.create(this.appenderPaths(file, key), { file, key }, this.commitFile);
  }

  async resumeAppender(checkpoint: AppenderCheckpoint): Promise<BlobAppender> {
    const { file, key } = appenderStateOf(checkpoint);
    return FsBlobAppender.resume(this.appenderPaths(file, key), checkpoint, this.commitFile);
  }

  private appenderPaths(file: string, key: string): { pending: string; final: string } {
    return { pending: path.join(this.root, PENDING_DIR, file), final: this.pathFor(key) };
  }

  /** Puts a pending file, written and closed, in place as a committed blob (fsynced, then renamed). */
  private readonly commitFile = async (pending: string, final: string): Promise<void> => {
    const fh = await fsp.open(pending, "r+");
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fsp.mkdir(path.dirname(final), { recursive: true, mode: 0o700 });
    await fsp.rename(pending, final);
    await syncDirectory(path.dirname(final));
  };

  async read(key: string, range?: { start: number; end: number }): Promise<Readable> {
    const file = this.pathFor(key);
    await fsp.access(file);
    // 1 MiB reads: a download is one long sequential read, and 64 KiB chunks cost a trip
    // through the stream machinery each (measured by the download benchmark).
    return fs.createReadStream(file, {
      highWaterMark: READ_CHUNK_BYTES,
      ...(range ? { start: range.start, end: range.end } : {}),
    });
  }

  async stat(key: string): Promise<{ size: number } | null> {
    try {
      const st = await fsp.stat(this.pathFor(key));
      return { size: st.size };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await fsp.rm(this.pathFor(key), { force: true });
  }

  async discardPending(tag: string): Promise<void> {
    const dir = path.join(this.root, PENDING_DIR);
    for (const name of await fsp.readdir(dir)) {
      if (name.startsWith(`${tag}.`)) await fsp.rm(path.join(dir, name), { force: true });
    }
  }

  async listPendingTags(): Promise<string[]> {
    const names = await fsp.readdir(path.join(this.root, PENDING_DIR));
    return [...new Set(names.map((n) => n.split(".")[0]!))];
  }

  async ping(): Promise<void> {
    await fsp.access(path.join(this.root, PENDING_DIR), fs.constants.W_OK);
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const fh = await fsp.open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * The id in `file`, or a new one put there whole (written aside, then linked into place: of
 * several processes starting at once, the first link wins and no one reads a half-written file).
 */
async function readOrCreateId(file: string): Promise<string> {
  const candidate = `${file}.${randomBytes(6).toString("hex")}`;
  await fsp.writeFile(candidate, `${randomBytes(16).toString("hex")}\n`, { mode: 0o600 });
  try {
    await fsp.link(candidate, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  } finally {
    await fsp.rm(candidate, { force: true });
  }
  const id = (await fsp.readFile(file, "utf8")).trim();
  if (!/^[0-9a-f]{32}$/.test(id))
    throw new Error(`${file} does not hold a store id; remove it to make a new one`);
  return id;
}
