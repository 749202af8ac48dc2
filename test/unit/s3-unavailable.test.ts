import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { VitrineError } from "../../src/core/errors.js";
import { S3BlobStore, s3Client } from "../../src/storage/blob/s3-blob-store.js";
import { freePort } from "../helpers/net.js";

/** An S3 store that cannot be reached answers UNAVAILABLE (a 503 in every dialect), not a crash. */
describe("S3 blob store, unreachable", () => {
  it("reads, stats and readiness fail as UNAVAILABLE", async () => {
    process.env.AWS_ACCESS_KEY_ID ??= "unused";
    process.env.AWS_SECRET_ACCESS_KEY ??= "unused";
    const endpoint = `http://127.0.0.1:${await freePort()}`;
    const store = new S3BlobStore(s3Client({ endpoint, region: "us-east-1", forcePathStyle: true }), {
      bucket: "nowhere",
      prefix: "",
    });
    const unavailable = (err: unknown) => err instanceof VitrineError && err.code === "UNAVAILABLE";
    await assert.rejects(store.read("k"), unavailable);
    await assert.rejects(store.stat("k"), unavailable);
    await assert.rejects(store.ping(), unavailable);
  });
});
