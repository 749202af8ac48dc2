import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import { OffThreadHash } from "../../src/ingest/off-thread-hash.js";
import { seededRandom } from "../helpers/seeded-random.js";

test("the hash worker's MD5 and SHA-512 equal node:crypto's over chunks of every size, reusing its batches", async () => {
  const random = seededRandom(42);
  const hash = new OffThreadHash(["md5", "sha512"]);
  const md5 = createHash("md5");
  const sha512 = createHash("sha512");
  let total = 0;
  // ~40 MiB in chunks from 1 byte to 3 MiB: batches fill, split, wrap and come back to be reused.
  while (total < 40 * 1024 * 1024) {
    const size = random() < 0.2 ? 1 + Math.floor(random() * 16) : Math.floor(random() * 3 * 1024 * 1024);
    const chunk = Buffer.alloc(size, Math.floor(random() * 256));
    md5.update(chunk);
    sha512.update(chunk);
    await hash.update(chunk);
    total += size;
  }
  assert.deepEqual(await hash.digests(), { md5: md5.digest("hex"), sha512: sha512.digest("hex") });
});

test("no data at all has the empty digests", async () => {
  const hash = new OffThreadHash(["md5", "sha512"]);
  assert.deepEqual(await hash.digests(), {
    md5: createHash("md5").digest("hex"),
    sha512: createHash("sha512").digest("hex"),
  });
});
