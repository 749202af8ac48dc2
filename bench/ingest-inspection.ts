/**
 * What format inspection costs the ingest pipeline: ingest throughput (read file → size, MD5,
 * SHA-512, inspection → blob store) with inspection on and off, for a 1 GiB raw and a 1 GiB
 * qcow2 image made by qemu-img. Runs alternate on/off to share the machine's noise; the best of
 * each is compared. Target: on ≥ 95% of off. Run: `npm run bench:ingest-inspection`.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { ingest } from "../src/ingest/pipeline.js";
import { FsBlobStore } from "../src/storage/blob/fs-blob-store.js";
import { tempDir } from "../test/helpers/server.js";

const GIB = 1024 ** 3;
const RUNS = Number(process.env.RUNS ?? 3);
const dir = tempDir("bench-ingest");
const raw = path.join(dir, "disk.raw");
const fd = fs.openSync(raw, "w");
const block = randomBytes(4 * 1024 * 1024);
for (let written = 0; written < GIB; written += block.length) fs.writeSync(fd, block);
fs.closeSync(fd);
const qcow2 = path.join(dir, "disk.qcow2");
execFileSync("qemu-img", ["convert", "-f", "raw", "-O", "qcow2", raw, qcow2]);

const blobs = await new FsBlobStore(path.join(dir, "blobs")).init();

async function run(file: string, inspect: boolean): Promise<number> {
  const key = `k${Date.now()}${Math.random().toString(36).slice(2, 8)}`;
  const start = performance.now();
  const result = await ingest(blobs, {
    source: fs.createReadStream(file, { highWaterMark: 1024 * 1024 }),
    key,
    tag: key,
    signal: new AbortController().signal,
    maxBytes: 2 * GIB,
    maxVirtualSize: 4 * 1024 ** 4,
    allowedFormats: ["raw", "qcow2"],
    sourceLabel: "bench",
    sourceKind: "upload",
    inspect,
  });
  const seconds = (performance.now() - start) / 1000;
  await blobs.delete(key);
  return result.size / 1e6 / seconds;
}

const rows: string[] = [];
for (const [name, file] of [
  ["raw 1 GiB", raw],
  ["qcow2 1 GiB", qcow2],
] as const) {
  const on: number[] = [];
  const off: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    off.push(await run(file, false));
    on.push(await run(file, true));
  }
  const best = (xs: number[]) => Math.max(...xs);
  rows.push(
    `${name}: inspection on ${best(on).toFixed(0)} MB/s, off ${best(off).toFixed(0)} MB/s, ratio ${((100 * best(on)) / best(off)).toFixed(1)}% (runs on: ${on.map((x) => x.toFixed(0)).join(", ")}; off: ${off.map((x) => x.toFixed(0)).join(", ")})`,
  );
}
console.log(rows.join("\n"));
fs.rmSync(dir, { recursive: true, force: true });
