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

test("ingests side by side share the hash threads: each gets its own digests, a dropped one disturbs none", async () => {
  const random = seededRandom(7);
  const ingests = Array.from({ length: 12 }, (_, i) => ({
    hash: new OffThreadHash(["md5", "sha512"], i % 4 === 3 ? { states: null } : null),
    md5: createHash("md5"),
    sha512: createHash("sha512"),
  }));
  const dropped = ingests.splice(5, 1)[0]!;
  for (let round = 0; round < 20; round++) {
    await Promise.all(
      ingests.map(async (ingest) => {
        const chunk = Buffer.alloc(Math.floor(random() * 700_000), Math.floor(random() * 256));
        ingest.md5.update(chunk);
        ingest.sha512.update(chunk);
        await ingest.hash.update(chunk);
      }),
    );
    if (round === 3) {
      await dropped.hash.update(Buffer.alloc(3 * 1024 * 1024, 1));
      dropped.hash.destroy();
    }
  }
  for (const ingest of ingests) {
    assert.deepEqual(await ingest.hash.digests(), {
      md5: ingest.md5.digest("hex"),
      sha512: ingest.sha512.digest("hex"),
    });
  }
});

test("an ingest dropped while it waits for the thread lets it go: the process can end", async () => {
  const hash = new OffThreadHash(["md5", "sha512"]);
  // More than the thread may have in flight: this update waits for it.
  const waiting = hash.update(Buffer.alloc(24 * 1024 * 1024, 5));
  assert.ok(waiting, "the update waits for the thread");
  hash.destroy();
  await waiting;
  const asked = new OffThreadHash(["md5"]);
  const digests = asked.digests();
  asked.destroy();
  await digests.then(
    () => undefined,
    () => undefined,
  );
  // node --test waits for the process to end: a thread still held would time this file out.
});
