import { createHash } from "node:crypto";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { BlobIngester, BlobReader } from "../../core/ports/blob-store.js";

/** Pending data of a copy in progress (an interrupted copy's is discarded when it runs again). */
export const COPY_TAG = "copy";

/**
 * Copies one committed blob between stores, verified: the target commits it only if its SHA-512
 * is the one the catalog recorded. A blob the target already holds (same size) is not copied
 * again. Returns whether bytes moved.
 */
export async function copyBlob(
  from: BlobReader,
  to: BlobReader & BlobIngester,
  blob: { key: string; size: number; sha512: string },
  onBytes: (n: number) => void = () => {},
): Promise<"copied" | "present"> {
  if ((await to.stat(blob.key))?.size === blob.size) return "present";
  const writer = await to.createWriter(blob.key, COPY_TAG);
  const hash = createHash("sha512");
  try {
    const measure = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        hash.update(chunk);
        onBytes(chunk.length);
        done(null, chunk);
      },
    });
    await pipeline(await from.read(blob.key), measure, writer.stream);
    const sha512 = hash.digest("hex");
    if (sha512 !== blob.sha512)
      throw new Error(`blob ${blob.key}: its SHA-512 is ${sha512}, the catalog says ${blob.sha512}`);
    await writer.commit();
    return "copied";
  } catch (err) {
    await writer.abort();
    throw err;
  }
}
