import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { after, afterEach, beforeEach, describe, it } from "node:test";
import type { MaintainedBlobStore } from "../../src/storage/blob/blob-inventory.js";
import { BLOB_STORES } from "./backends.js";

/**
 * The blob store contract (the roles of core/ports/blob-store.ts and the maintenance inventory of
 * storage/blob/blob-inventory.ts), run against every implementation. After each
 * test the store must hold no pending data: a writer that was committed, aborted or discarded
 * leaves nothing behind.
 */
for (const backend of BLOB_STORES) {
  describe(`BlobStore contract: ${backend.name}`, () => {
    let store: MaintainedBlobStore;
    let close: () => Promise<void>;

    beforeEach(async () => {
      ({ store, close } = await backend.open());
    });
    afterEach(async () => {
      assert.deepEqual(await store.listPendingTags(), [], "pending data left behind");
      await close();
    });
    after(() => backend.shutdown?.());

    async function put(key: string, data: Buffer, tag = "t1"): Promise<void> {
      const writer = await store.createWriter(key, tag);
      await pipeline(Readable.from([data]), writer.stream);
      await writer.commit();
    }

    async function readAll(key: string, range?: { start: number; end: number }): Promise<Buffer> {
      const chunks: Buffer[] = [];
      for await (const chunk of await store.read(key, range)) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    }

    it("names where a blob lives as a URL of the store, without credentials, distinct per key", async () => {
      await put("located", Buffer.from("here"));
      const url = new URL(store.locationOf("located"));
      assert.ok(["file:", "s3:"].includes(url.protocol), url.href);
      assert.equal(url.username, "");
      assert.equal(url.password, "");
      assert.notEqual(store.locationOf("other"), url.href);
      await store.delete("located");
    });

    it("lists its committed blobs by inventory name, and removes one by that name", async () => {
      await put("listed-1", Buffer.from("one"));
      await put("listed-2", Buffer.from("two!"));
      const pending = await store.createWriter("listed-pending", "inventory");
      pending.stream.end(Buffer.from("not yet"));
      const listed = new Map<string, number>();
      for await (const blob of store.inventory()) {
        listed.set(blob.name, blob.size);
        assert.ok(Math.abs(Date.now() - blob.modifiedAt) < 10 * 60_000, "a plausible write time");
      }
      assert.equal(listed.get(store.inventoryName("listed-1")), 3);
      assert.equal(listed.get(store.inventoryName("listed-2")), 4);
      assert.ok(!listed.has(store.inventoryName("listed-pending")), "uncommitted data is not a blob");
      await store.deleteByInventoryName(store.inventoryName("listed-1"));
      assert.equal(await store.stat("listed-1"), null);
      assert.deepEqual(await store.stat("listed-2"), { size: 4 });
      await pending.abort();
      await store.delete("listed-2");
    });

    it("an appended blob goes on from a checkpoint after its writer is gone, and commits whole", async () => {
      const first = await store.createAppender("appended", "resumable", 40 * 1024 * 1024);
      const step = first.checkpointBytes;
      const data = Buffer.alloc(2 * step + 12345);
      for (let i = 0; i < data.length; i += 4096) data.writeUInt32BE(i, i);
      // Up to a boundary, checkpointed while the next bytes keep coming.
      await first.append(data.subarray(0, step));
      const atBoundary = first.sync();
      await first.append(data.subarray(step, step + 1000));
      const boundary = await atBoundary;
      assert.equal(boundary.offset, step);
      // A request that ends mid-part, then bytes written after its checkpoint that a crash loses.
      await first.append(data.subarray(step + 1000, step + 777_777));
      const midPart = await first.sync();
      assert.equal(midPart.offset, step + 777_777);
      await first.append(data.subarray(step + 777_777, step + 900_000));
      await first.close();
      assert.ok((await store.listPendingTags()).includes("resumable"));
      assert.equal(await store.stat("appended"), null, "nothing visible before commit");

      // Through JSON, as the catalog keeps it.
      const second = await store.resumeAppender(JSON.parse(JSON.stringify(midPart)));
      assert.equal(second.offset, step + 777_777);
      await second.append(data.subarray(step + 777_777, 2 * step + 5));
      const again = await second.sync();
      await second.close();
      const third = await store.resumeAppender(JSON.parse(JSON.stringify(again)));
      for (let at = third.offset; at < data.length; at += 1 << 20) {
        await third.append(data.subarray(at, Math.min(data.length, at + (1 << 20))));
      }
      await third.commit();
      const back = await readAll("appended");
      assert.equal(back.length, data.length);
      assert.ok(back.equals(data), "the blob is the data, once, in order");
      await store.discardPending("resumable"); // the earlier tails, if the store left any
      await store.delete("appended");
    });

    it("discarding an appended blob's tag removes its checkpoints", async () => {
      const appender = await store.createAppender("dropped", "resumable-dropped", 1 << 20);
      await appender.append(Buffer.alloc(300_000, 1));
      const checkpoint = await appender.sync();
      await appender.close();
      await store.discardPending("resumable-dropped");
      await assert.rejects(async () => {
        const resumed = await store.resumeAppender(checkpoint);
        await resumed.append(Buffer.alloc(10));
        await resumed.commit();
      });
      assert.equal(await store.stat("dropped"), null);
    });

    it("a committed blob reads back byte for byte, with its size", async () => {
      const data = Buffer.from("hello, image bytes");
      await put("k1", data);
      assert.deepEqual(await readAll("k1"), data);
      assert.deepEqual(await store.stat("k1"), { size: data.length });
    });

    it("streams a large blob without changing a byte", async () => {
      const chunk = Buffer.alloc(1024 * 1024, 7);
      const writer = await store.createWriter("big", "big");
      const expected = createHash("md5");
      async function* chunks() {
        for (let i = 0; i < 24; i++) {
          const c = Buffer.from(chunk.map((b) => (b + i) & 0xff));
          expected.update(c);
          yield c;
        }
      }
      await pipeline(Readable.from(chunks()), writer.stream);
      await writer.commit();
      const actual = createHash("md5");
      for await (const c of await store.read("big")) actual.update(c as Buffer);
      assert.equal(actual.digest("hex"), expected.digest("hex"));
      assert.equal((await store.stat("big"))?.size, 24 * 1024 * 1024);
    });

    it("abort in the middle of a large blob leaves nothing, whatever was already sent", async () => {
      const writer = await store.createWriter("big2", "big2");
      for (let i = 0; i < 14; i++) {
        await new Promise<void>((resolve, reject) =>
          writer.stream.write(Buffer.alloc(1024 * 1024, i), (err) => (err ? reject(err) : resolve())),
        );
      }
      await writer.abort();
      assert.equal(await store.stat("big2"), null);
    });

    it("nothing is visible under a key before commit", async () => {
      const writer = await store.createWriter("k2", "t2");
      writer.stream.write(Buffer.from("partial"));
      assert.equal(await store.stat("k2"), null);
      await assert.rejects(store.read("k2"));
      await writer.abort();
    });

    it("abort drops what was written, may be called twice, and changes nothing after a commit", async () => {
      const writer = await store.createWriter("k3", "t3");
      await new Promise<void>((resolve) =>
        writer.stream.write(Buffer.from("x".repeat(1000)), () => resolve()),
      );
      await writer.abort();
      await writer.abort();
      assert.equal(await store.stat("k3"), null);

      const committed = await store.createWriter("k4", "t4");
      await pipeline(Readable.from([Buffer.from("kept")]), committed.stream);
      await committed.commit();
      await committed.abort();
      assert.deepEqual(await readAll("k4"), Buffer.from("kept"));
    });

    it("reads inclusive byte ranges", async () => {
      await put("k5", Buffer.from("0123456789"));
      assert.equal((await readAll("k5", { start: 2, end: 5 })).toString(), "2345");
      assert.equal((await readAll("k5", { start: 9, end: 9 })).toString(), "9");
      assert.equal((await readAll("k5", { start: 0, end: 9 })).toString(), "0123456789");
    });

    it("committing a key again replaces the blob (a resumed attempt overwrites its own)", async () => {
      await put("k6", Buffer.from("first attempt"));
      await put("k6", Buffer.from("second"));
      assert.equal((await readAll("k6")).toString(), "second");
    });

    it("delete is idempotent and removes only its key", async () => {
      await put("k7", Buffer.from("a"));
      await put("k8", Buffer.from("b"));
      await store.delete("k7");
      await store.delete("k7");
      await store.delete("never-written");
      assert.equal(await store.stat("k7"), null);
      assert.deepEqual(await readAll("k8"), Buffer.from("b"));
    });

    it("pending data of an abandoned writer is listed by its tag and discarded by it", async () => {
      const crashed = await store.createWriter("k9", "op-crashed");
      await new Promise<void>((resolve) =>
        crashed.stream.write(Buffer.from("half an image"), () => resolve()),
      );
      const other = await store.createWriter("k10", "upload-other");
      await new Promise<void>((resolve) => other.stream.write(Buffer.from("another"), () => resolve()));
      assert.deepEqual((await store.listPendingTags()).sort(), ["op-crashed", "upload-other"]);
      await store.discardPending("op-crashed");
      assert.deepEqual(await store.listPendingTags(), ["upload-other"]);
      await other.abort();
      crashed.stream.destroy();
      assert.equal(await store.stat("k9"), null);
    });

    it("answers its readiness probe", async () => {
      await store.ping();
    });
  });
}
