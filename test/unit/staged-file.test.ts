import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { after, describe, it } from "node:test";
import { pipeline } from "node:stream/promises";
import { Readable } from "node:stream";
import { StagedFile, stagedFileStream } from "../../src/storage/blob/staged-file.js";
import { tempDir } from "../helpers/server.js";

const MiB = 1024 * 1024;

/** Data in chunks of awkward sizes (a socket's, a tail of odd length). */
function chunksOf(data: Buffer): Buffer[] {
  const sizes = [1, 4095, 65_536, 3 * MiB + 7, 512, 5 * MiB];
  const out: Buffer[] = [];
  for (let at = 0, i = 0; at < data.length; i++) {
    const n = Math.min(sizes[i % sizes.length]!, data.length - at);
    out.push(data.subarray(at, at + n));
    at += n;
  }
  return out;
}

const digest = (b: Buffer) => createHash("sha256").update(b).digest("hex");

// The data directory's filesystem (O_DIRECT on the machines this runs on) and tmpfs.
for (const [where, root] of [
  ["the data directory's filesystem", tempDir("staged-file")],
  ["tmpfs", fs.mkdtempSync("/dev/shm/staged-file-")],
] as const) {
  describe(`StagedFile on ${where}`, () => {
    after(() => fs.rmSync(root, { recursive: true, force: true }));

    it("a stream writes the data byte for byte, of any length, and leaves no probe behind", async () => {
      for (const length of [0, 1, 4096, 4 * MiB, 4 * MiB + 1, 13 * MiB + 12_345]) {
        const data = randomBytes(length);
        const file = path.join(root, `stream-${length}`);
        await pipeline(Readable.from(chunksOf(data)), await stagedFileStream(file));
        const back = fs.readFileSync(file);
        assert.equal(back.length, length);
        assert.equal(digest(back), digest(data), `${length} bytes read back`);
      }
      assert.deepEqual(
        fs.readdirSync(root).filter((n) => n.endsWith(".probe")),
        [],
      );
    });

    it("flushed at any length, it goes on appending, and a reopened file goes on from its length", async () => {
      const data = randomBytes(11 * MiB + 333);
      const file = path.join(root, "appended");
      const staged = await StagedFile.create(file);
      const cuts = [100, 4 * MiB, 4 * MiB + 4097, 9 * MiB - 1];
      let at = 0;
      for (const cut of cuts) {
        for (const chunk of chunksOf(data.subarray(at, cut))) await staged.append(chunk);
        at = cut;
        await staged.flush();
        assert.equal(fs.statSync(file).size, cut, "the file ends where the data does");
        assert.equal(digest(fs.readFileSync(file)), digest(data.subarray(0, cut)));
      }
      await staged.close();
      // Another process goes on from the last flush (what a resumed upload does).
      const reopened = await StagedFile.reopen(file, at);
      for (const chunk of chunksOf(data.subarray(at))) await reopened.append(chunk);
      await reopened.flush();
      await reopened.datasync();
      await reopened.close();
      assert.equal(digest(fs.readFileSync(file)), digest(data));
    });

    it("a failed append is reported, not lost", async () => {
      const file = path.join(root, "failing");
      const staged = await StagedFile.create(file);
      await staged.close(); // its descriptor gone: the next write fails
      await assert.rejects(async () => {
        for (let i = 0; i < 3; i++) await staged.append(Buffer.alloc(4 * MiB));
        await staged.flush();
      });
    });
  });
}

it("bypasses the page cache on the data directory's filesystem where it takes O_DIRECT", async (t) => {
  const root = tempDir("staged-direct");
  try {
    const staged = await StagedFile.create(path.join(root, "direct"));
    await staged.close();
    const fsType = fs.readFileSync("/proc/mounts", "utf8");
    if (!/ \/ ext4 /.test(fsType)) t.skip("not on ext4 here");
    else assert.equal(staged.bypassesCache, true);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
