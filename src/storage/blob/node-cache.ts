import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { type Readable, Transform, type TransformCallback } from "node:stream";
import type { Logger } from "pino";
import type { ImageCache } from "../../core/ports/blob-store.js";
import { READ_CHUNK_BYTES } from "./fs-blob-store.js";

interface Entry {
  size: number;
  lastUsedAt: number;
  hits: number;
}

const PARTIAL_DIR = ".partial";

/**
 * This node's cache of data read from remote stores (README "Stores, cache and regions"): one
 * file per blob in a local directory, bounded in bytes, the least recently used dropped first.
 * A copy is written beside a download as it flows and listed only once whole and matching the
 * image's size and SHA-512; a download cut short or a mismatch leaves nothing. The index is
 * the directory itself (rebuilt at start: names are the keys, times the last use).
 */
export class NodeCache implements ImageCache {
  private readonly entries_ = new Map<string, Entry>();
  private readonly filling = new Set<string>();
  private readonly queue = new Set<string>();
  private readonly ready: Promise<void>;

  constructor(
    private readonly dir: string,
    private readonly maxBytes: number,
    private readonly log: Logger,
  ) {
    this.ready = this.load();
  }

  private async load(): Promise<void> {
    await fsp.rm(path.join(this.dir, PARTIAL_DIR), { recursive: true, force: true });
    await fsp.mkdir(path.join(this.dir, PARTIAL_DIR), { recursive: true, mode: 0o700 });
    for (const name of await fsp.readdir(this.dir)) {
      if (name === PARTIAL_DIR) continue;
      const stat = await fsp.stat(path.join(this.dir, name));
      this.entries_.set(keyOf(name), { size: stat.size, lastUsedAt: stat.mtimeMs, hits: 0 });
    }
  }

  private file(key: string): string {
    return path.join(this.dir, nameOf(key));
  }

  async has(key: string): Promise<boolean> {
    await this.ready;
    return this.entries_.has(key);
  }

  async read(key: string, range?: { start: number; end: number }): Promise<Readable | null> {
    await this.ready;
    const entry = this.entries_.get(key);
    if (!entry) return null;
    const now = Date.now();
    entry.lastUsedAt = now;
    entry.hits += 1;
    // The file's time is the use the next start-up sees.
    fsp.utimes(this.file(key), now / 1000, now / 1000).catch(() => {});
    // Read as the directory store reads (1 MiB chunks): a cached download is to cost what a local one does.
    const stream = fs.createReadStream(this.file(key), {
      highWaterMark: READ_CHUNK_BYTES,
      ...(range ? { start: range.start, end: range.end } : {}),
    });
    // Dropped meanwhile (evicted, cleared): the caller reads from its store instead.
    return new Promise((resolve) => {
      stream.once("open", () => resolve(stream));
      stream.once("error", () => {
        this.entries_.delete(key);
        resolve(null);
      });
    });
  }

  fill(key: string, source: Readable, expected: { sha512: string; size: number }): Readable {
    if (expected.size > this.maxBytes || this.filling.has(key) || this.entries_.has(key)) return source;
    this.filling.add(key);
    const partial = path.join(this.dir, PARTIAL_DIR, `${randomBytes(8).toString("hex")}`);
    const out = fs.createWriteStream(partial, { mode: 0o600 });
    const hash = createHash("sha512");
    let size = 0;
    let failed = false;
    const drop = () => {
      if (failed) return;
      failed = true;
      out.destroy();
      fsp.rm(partial, { force: true }).catch(() => {});
      this.filling.delete(key);
    };
    const tee = new Transform({
      transform: (chunk: Buffer, _enc, done: TransformCallback) => {
        size += chunk.length;
        hash.update(chunk);
        if (failed || out.write(chunk)) done(null, chunk);
        else out.once("drain", () => done(null, chunk));
      },
      flush: (done: TransformCallback) => {
        if (failed) return done();
        const sha512 = hash.digest("hex");
        if (size !== expected.size || sha512 !== expected.sha512) {
          this.log.warn(
            { key, size, expected: expected.size },
            "data read for the cache does not match its image: not kept",
          );
          drop();
          return done();
        }
        out.end(() => {
          this.commit(key, partial, size).then(
            () => done(),
            (err: unknown) => {
              this.log.warn({ err, key }, "keeping a copy in the cache failed");
              drop();
              done();
            },
          );
        });
      },
    });
    out.once("error", (err) => {
      this.log.warn({ err, key }, "writing the cache's copy failed: the download goes on without it");
      drop();
    });
    tee.once("close", () => {
      if (!tee.writableFinished) drop();
    });
    source.once("error", (err) => tee.destroy(err));
    source.pipe(tee);
    return tee;
  }

  /** Lists a whole copy, dropping the least recently used ones to stay within the bound. */
  private async commit(key: string, partial: string, size: number): Promise<void> {
    try {
      const byAge = [...this.entries_].sort((a, b) => a[1].lastUsedAt - b[1].lastUsedAt);
      let total = [...this.entries_.values()].reduce((sum, e) => sum + e.size, 0);
      for (const [old, entry] of byAge) {
        if (total + size <= this.maxBytes) break;
        await this.remove(old);
        total -= entry.size;
        this.log.info({ key: old, size: entry.size }, "evicted from the cache (least recently used)");
      }
      await fsp.rename(partial, this.file(key));
      this.entries_.set(key, { size, lastUsedAt: Date.now(), hits: 0 });
    } finally {
      this.filling.delete(key);
    }
  }

  prefetch(key: string, open: () => Promise<Readable>, expected: { sha512: string; size: number }): void {
    if (this.queue.has(key) || this.entries_.has(key)) return;
    this.queue.add(key);
    void (async () => {
      try {
        await this.ready;
        const stream = this.fill(key, await open(), expected);
        for await (const _ of stream) void _;
      } catch (err) {
        this.log.warn({ err, key }, "pre-fetching into the cache failed");
      } finally {
        this.queue.delete(key);
      }
    })();
  }

  queued(): string[] {
    return [...this.queue];
  }

  clearQueue(): void {
    this.queue.clear();
  }

  async entries(): Promise<{ key: string; size: number; lastUsedAt: number; hits: number }[]> {
    await this.ready;
    return [...this.entries_].map(([key, e]) => ({ key, ...e }));
  }

  async remove(key: string): Promise<void> {
    await this.ready;
    this.queue.delete(key);
    this.entries_.delete(key);
    await fsp.rm(this.file(key), { force: true });
  }
}

/** File names are the keys in hex: any key, no path tricks. */
const nameOf = (key: string) => Buffer.from(key, "utf8").toString("hex");
const keyOf = (name: string) => Buffer.from(name, "hex").toString("utf8");
