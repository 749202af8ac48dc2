import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { describe, it } from "node:test";
import { VitrineError } from "../../src/core/errors.js";
import { type DecompressionLimits, compressionOf, decompressing } from "../../src/ingest/decompress.js";
import { image, iso } from "../helpers/fixtures.js";

const LIMITS: DecompressionLimits = {
  maxOutputBytes: 1024 ** 3,
  maxRatio: 1024,
  ratioFloorBytes: 64 * 1024 * 1024,
  decoderMemoryBytes: 512 * 1024 * 1024,
};
const CODECS = {
  gzip: ["gzip", "-c"],
  xz: ["xz", "-c", "-T1"],
  zstd: ["zstd", "-c", "-q"],
  bzip2: ["bzip2", "-c"],
};

const compress = (codec: keyof typeof CODECS, data: Buffer): Buffer =>
  execFileSync(CODECS[codec][0]!, CODECS[codec].slice(1), { input: data, maxBuffer: 256 << 20 });

/** `data` as a stream of small chunks (signatures split across them). */
const chunked = (data: Buffer, size = 3): Readable =>
  Readable.from(
    (function* () {
      for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
    })(),
    { objectMode: false },
  );

describe("decompression of sources", () => {
  it("knows each codec by its signature, and no disk format for one", () => {
    const data = Buffer.from("a disk, say");
    for (const codec of Object.keys(CODECS) as (keyof typeof CODECS)[]) {
      assert.equal(compressionOf(compress(codec, data)), codec);
    }
    for (const fixture of [
      image("qcow2"),
      image("vmdk"),
      image("vmdk", 8, "subformat=streamOptimized"),
      image("vpc"),
      image("vhdx"),
      image("vdi"),
      image("raw"),
      iso("decompress"),
    ]) {
      const head = Buffer.alloc(16);
      const fd = fs.openSync(fixture.path, "r");
      fs.readSync(fd, head, 0, 16, 0);
      fs.closeSync(fd);
      assert.equal(compressionOf(head), null, fixture.path);
    }
    assert.equal(compressionOf(Buffer.from([0x1f, 0x8b])), null, "too short to tell");
    assert.equal(compressionOf(Buffer.from("BZh0......")), null, "bzip2 needs a block size digit");
  });

  it("passes data that is not compressed through unchanged, however it is chunked", async () => {
    for (const data of [Buffer.alloc(0), Buffer.from("ab"), fs.readFileSync(image("qcow2").path)]) {
      let found: string | null | undefined;
      const out = await buffer(decompressing(chunked(data), LIMITS, "t", (c) => (found = c)));
      assert.ok(out.equals(data));
      assert.equal(found, null);
    }
  });

  it("decompresses each codec with the signature split over chunks", async () => {
    const data = fs.readFileSync(image("qcow2").path);
    for (const codec of Object.keys(CODECS) as (keyof typeof CODECS)[]) {
      let found: string | null | undefined;
      const out = await buffer(
        decompressing(chunked(compress(codec, data), 5), LIMITS, "t", (c) => (found = c)),
      );
      assert.ok(out.equals(data), codec);
      assert.equal(found, codec);
    }
  });

  it("refuses output past the size limit or the ratio bound, and a corrupt stream", async () => {
    const zeros = compress("gzip", Buffer.alloc(8 * 1024 * 1024));
    const refused = (limits: Partial<DecompressionLimits>, data: Buffer, reason: string, message: RegExp) =>
      assert.rejects(
        buffer(decompressing(Readable.from([data]), { ...LIMITS, ...limits }, "uri", () => undefined)),
        (err) => {
          assert.ok(err instanceof VitrineError, String(err));
          assert.equal(err.reason, reason);
          assert.match(err.message, message);
          return true;
        },
      );
    await refused(
      { maxOutputBytes: 1024 * 1024 },
      zeros,
      "DECOMPRESSION_BOMB",
      /^uri: .*more than 1048576 bytes/,
    );
    await refused(
      { ratioFloorBytes: 1024 * 1024, maxRatio: 100 },
      zeros,
      "DECOMPRESSION_BOMB",
      /more than 100 times/,
    );
    const ok = await buffer(
      decompressing(Readable.from([zeros]), { ...LIMITS, maxRatio: 0 }, "uri", () => undefined),
    );
    assert.equal(ok.length, 8 * 1024 * 1024, "ratio 0: no bound");
    const gz = compress("gzip", fs.readFileSync(image("qcow2").path));
    await refused(
      {},
      gz.subarray(0, gz.length - 40),
      "DECOMPRESSION_FAILED",
      /gzip-compressed data cannot be/,
    );
    const xz = compress("xz", fs.readFileSync(image("qcow2").path));
    await refused(
      {},
      xz.subarray(0, xz.length - 40),
      "DECOMPRESSION_FAILED",
      /xz-compressed data cannot be decompressed/,
    );
  });
});
