import { Transform } from "node:stream";
import type { BlobStore, BlobWriter } from "../core/ports/blob-store.js";
import type { Metrics } from "./metrics.js";

/**
 * A blob store that counts what the metrics need: bytes read out (downloads) and failed calls.
 * The store's behaviour is unchanged; every error still reaches the caller.
 */
export function measuredBlobStore(store: BlobStore, metrics: Metrics): BlobStore {
  const counted = <T>(call: string, run: () => Promise<T>): Promise<T> =>
    run().catch((err: unknown) => {
      metrics.blobStoreFailed(call);
      throw err;
    });
  return {
    ...(store.localPath ? { localPath: (key: string) => store.localPath!(key) } : {}),
    createWriter: (key, tag) =>
      counted("createWriter", async (): Promise<BlobWriter> => {
        // Errors on the stream itself are mostly the source's (a client gone): not counted here.
        const writer = await store.createWriter(key, tag);
        return {
          stream: writer.stream,
          commit: () => counted("commit", () => writer.commit()),
          abort: () => counted("abort", () => writer.abort()),
        };
      }),
    createAppender: (key, tag, expectedBytes) =>
      counted("createAppender", () => store.createAppender(key, tag, expectedBytes)),
    resumeAppender: (checkpoint) => counted("resumeAppender", () => store.resumeAppender(checkpoint)),
    read: (key, range) =>
      counted("read", async () => {
        const source = await store.read(key, range);
        const meter = new Transform({
          transform(chunk: Buffer, _enc, done) {
            metrics.served(chunk.length);
            done(null, chunk);
          },
        });
        source.once("error", (err) => {
          metrics.blobStoreFailed("read");
          meter.destroy(err);
        });
        meter.once("close", () => source.destroy());
        return source.pipe(meter);
      }),
    stat: (key) => counted("stat", () => store.stat(key)),
    delete: (key) => counted("delete", () => store.delete(key)),
    discardPending: (tag) => counted("discardPending", () => store.discardPending(tag)),
    listPendingTags: () => counted("listPendingTags", () => store.listPendingTags()),
    ping: () => counted("ping", () => store.ping()),
    identity: () => store.identity(),
    locationOf: (key) => store.locationOf(key),
  };
}
