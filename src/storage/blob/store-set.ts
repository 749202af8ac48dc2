import fs from "node:fs";
import type { Readable } from "node:stream";
import type {
  AppenderCheckpoint,
  BlobAppender,
  BlobStore,
  BlobWriter,
  ImageStores,
  StoreInfo,
} from "../../core/ports/blob-store.js";

export interface NamedStore {
  info: StoreInfo;
  store: BlobStore;
}

/**
 * The installation's named stores (README "Stores, cache and regions") as the core sees them one
 * by one (`ImageStores`), and all at once as one blob store for data that is no image's yet:
 * writes go to the default store, reads try the default store then the others, deletes and the
 * pending-data sweep reach every store.
 */
export class StoreSet implements BlobStore, ImageStores {
  readonly defaultStore: string;
  private readonly byId: Map<string, BlobStore>;
  private readonly order: BlobStore[];

  constructor(
    private readonly named: NamedStore[],
    readonly primary: string,
  ) {
    const byDefault = named.find((n) => n.info.isDefault) ?? named[0]!;
    this.defaultStore = byDefault.info.id;
    this.byId = new Map(named.map((n) => [n.info.id, n.store]));
    this.order = [byDefault.store, ...named.filter((n) => n !== byDefault).map((n) => n.store)];
  }

  list(): StoreInfo[] {
    return this.named.map((n) => n.info);
  }

  get(id: string): BlobStore | null {
    return this.byId.get(id) ?? null;
  }

  private get writable(): BlobStore {
    return this.order[0]!;
  }

  async read(key: string, range?: { start: number; end: number }): Promise<Readable> {
    return this.firstAnswer((store) => store.read(key, range));
  }

  async stat(key: string): Promise<{ size: number } | null> {
    for (const store of this.order) {
      const found = await store.stat(key).catch(() => null);
      if (found) return found;
    }
    return null;
  }

  locationOf(key: string): string {
    return this.writable.locationOf(key);
  }

  /**
   * The file of a blob in the first directory store that holds it (a conversion reads it in
   * place), or null when none does (it is read through its store).
   */
  localFileOf(key: string): string | null {
    const paths = this.order.flatMap((store) => (store.localPath ? [store.localPath(key)] : []));
    return paths.find((p) => fs.existsSync(p)) ?? null;
  }

  createWriter(key: string, tag: string): Promise<BlobWriter> {
    return this.writable.createWriter(key, tag);
  }

  createAppender(key: string, tag: string, expectedBytes: number): Promise<BlobAppender> {
    return this.writable.createAppender(key, tag, expectedBytes);
  }

  resumeAppender(checkpoint: AppenderCheckpoint): Promise<BlobAppender> {
    return this.writable.resumeAppender(checkpoint);
  }

  async delete(key: string): Promise<void> {
    await this.everyStore((store) => store.delete(key));
  }

  async discardPending(tag: string): Promise<void> {
    await this.everyStore((store) => store.discardPending(tag));
  }

  async listPendingTags(): Promise<string[]> {
    const tags = await Promise.all(this.order.map((store) => store.listPendingTags()));
    return [...new Set(tags.flat())];
  }

  /** Ready when the default store answers (others being down only narrows where data is read). */
  ping(): Promise<void> {
    return this.writable.ping();
  }

  identity(): string {
    // One store keeps the identity it had before there were several (nodes compare it).
    if (this.named.length === 1) return this.named[0]!.store.identity();
    return this.named.map((n) => `${n.info.id}=${n.store.identity()}`).join(";");
  }

  private async firstAnswer<T>(call: (store: BlobStore) => Promise<T>): Promise<T> {
    let lastError: unknown = null;
    for (const store of this.order) {
      try {
        return await call(store);
      } catch (err) {
        lastError = err;
      }
    }
    throw lastError;
  }

  /** Runs `call` on every store; the first failure is thrown once all have been tried. */
  private async everyStore(call: (store: BlobStore) => Promise<void>): Promise<void> {
    const results = await Promise.allSettled(this.order.map(call));
    const failed = results.find((r) => r.status === "rejected");
    if (failed) throw failed.reason;
  }
}
