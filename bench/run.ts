/**
 * The benchmark: throughput, latency and memory of Vitrine against the machine's own limits and,
 * with `--peer glance`, against OpenStack Glance, all measured in one run. Prints one table and
 * writes it as JSON under bench/results/. Run: `npm run bench [-- --peer glance]`.
 * `--backend pg-s3` runs Vitrine on PostgreSQL + S3 (Swift's s3api) instead of the embedded default.
 * `--smoke` runs every scenario on tiny sizes (what the test suite does so the harness cannot rot).
 */
import { execFileSync } from "node:child_process";
import { randomFillSync, randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import Database from "better-sqlite3";
import { startFileServer } from "../test/helpers/file-server.js";
import { startSwiftS3 } from "../test/helpers/swift.js";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { tempDir } from "../test/helpers/server.js";
import { type GlancePeer, startGlance } from "./harness/glance.js";
import {
  MB,
  curlDownload,
  curlUpload,
  latency,
  opensslSpeed,
  peakRssMb,
  percentile,
  wrk,
  wrkPostScript,
  grpcLoad,
} from "./harness/measure.js";
import { startReferenceServer, startTrivialGrpcServer } from "./harness/references.js";
import { Report } from "./harness/report.js";
import { startPgS3 } from "./harness/pg-s3.js";
import { type VitrineUnderTest, startVitrine } from "./harness/vitrine.js";
import { CHROMIUM, consoleFirstLoads } from "./harness/console-load.js";

const { values: args } = parseArgs({
  options: {
    peer: { type: "string" },
    backend: { type: "string", default: "embedded" },
    smoke: { type: "boolean", default: false },
    out: { type: "string" },
  },
});
if (args.peer !== undefined && args.peer !== "glance")
  throw new Error(`--peer must be glance, not ${args.peer}`);
if (args.backend !== "embedded" && args.backend !== "pg-s3")
  throw new Error(`--backend must be embedded or pg-s3, not ${args.backend}`);
const smoke = args.smoke!;
const MiB = 1024 * 1024;
const size = smoke
  ? {
      upload: 8 * MiB,
      rssFactor: 4,
      images: 2_000,
      deep: 1_500,
      million: 5_000,
      wrkSeconds: 1,
      samples: 30,
      hashSeconds: 1,
      mixedSeconds: 5,
    }
  : {
      upload: 1024 * MiB,
      rssFactor: 4,
      images: 100_000,
      deep: 90_000,
      million: 1_000_000,
      wrkSeconds: 10,
      samples: 200,
      hashSeconds: 3,
      mixedSeconds: 300,
    };
const outDir = args.out ?? path.join(path.dirname(fileURLToPath(import.meta.url)), "results");
const label = `${size.upload / MiB} MiB`;
const work = tempDir("bench");
const report = new Report();
const started = Date.now();
const cleanups: (() => Promise<void>)[] = [];

try {
  // --- Fixtures: random data (incompressible, as images mostly are) and a qcow2 made by qemu-img.
  console.log(`fixtures in ${work}`);
  const randomFile = path.join(work, "random.raw");
  writeRandom(randomFile, size.upload);
  const qcow2 = path.join(work, "random.qcow2");
  execFileSync("qemu-img", ["convert", "-f", "raw", "-O", "qcow2", randomFile, qcow2]);
  const bigFile = path.join(work, "random-x4.raw");
  for (let i = 0; i < size.rssFactor; i++) fs.appendFileSync(bigFile, fs.readFileSync(randomFile));

  // --- References measured now, on this machine.
  console.log("references");
  const md5 = opensslSpeed("md5", size.hashSeconds);
  const sha512 = opensslSpeed("sha512", size.hashSeconds);
  // Both hashes one after the other on one core: what the upload's hash thread can do at most.
  const bothHashes = { name: "md5 + sha512, one core", figure: 1 / (1 / md5 + 1 / sha512) };
  report.add({
    scenario: "hash speed (openssl speed -evp)",
    subject: "md5, one core",
    figure: md5,
    unit: "MB/s",
  });
  report.add({
    scenario: "hash speed (openssl speed -evp)",
    subject: "sha512, one core",
    figure: sha512,
    unit: "MB/s",
  });
  const refDir = path.join(work, "ref");
  fs.mkdirSync(refDir);

  // --- Vitrine, with `images` already in folder "big" for the list scenario.
  const pgS3 = args.backend === "pg-s3" ? await startPgS3() : null;
  if (pgS3) cleanups.push(() => pgS3.stop());
  const backendEnv = pgS3?.env ?? {};
  const dataDir = path.join(work, "vitrine");
  fs.mkdirSync(dataDir);
  let vitrine = await startVitrine(dataDir, backendEnv);
  await vitrine.stop();
  const vitrineMarkers = pgS3
    ? { openstackDeep: await pgS3.seed(size.images, size.deep) }
    : seedVitrine(path.join(dataDir, "vitrine.sqlite"), size.images);
  vitrine = await startVitrine(dataDir, { ...backendEnv, VITRINE_IMPORT_ALLOWED_HOSTS: "127.0.0.1" });
  cleanups.push(() => vitrine.stop());
  const vAuth = { "x-auth-token": vitrine.token };

  const sampleDoc = await (await fetch(`${vitrine.url}/v2/images?limit=1`, { headers: vAuth })).json();
  const ref = await startReferenceServer(refDir, randomFile, sampleDoc);
  cleanups.push(() => ref.close());

  // 1. Upload.
  console.log("1. upload");
  const plainWriter = await curlUpload(`${ref.url}/upload`, randomFile, {});
  const upload = await uploadTo(vitrine.url, vAuth, randomFile);
  report.add({
    scenario: `1. upload ${label} (PUT /v2/images/{id}/file)`,
    subject: "vitrine",
    figure: upload.mbps,
    unit: "MB/s",
    reference: bothHashes,
    target: { min: 0.8, of: "ratio" },
  });
  report.add({
    scenario: `1. upload ${label} (PUT /v2/images/{id}/file)`,
    subject: "vitrine",
    figure: upload.mbps,
    unit: "MB/s",
    reference: { name: "plain Node writer", figure: plainWriter },
  });
  const s3Speed = pgS3 ? await pgS3.reference(randomFile) : null;
  if (s3Speed) {
    report.add({
      scenario: `1. upload ${label} (PUT /v2/images/{id}/file)`,
      subject: "vitrine",
      figure: upload.mbps,
      unit: "MB/s",
      reference: { name: "S3 server via the SDK", figure: s3Speed.upload },
      target: { min: 0.9, of: "ratio" },
    });
  }

  // 1b. The same upload with quotas on: limits on every project, never reached, so each upload
  // pays the lock, the usage read and the reservation. Alternated with quotas off, medians of 3.
  console.log("1b. upload with quotas on");
  const setQuotas = async (on: boolean) => {
    const limits = on
      ? { image_size_total: String(2 ** 50), image_count_total: 1_000_000_000, image_count_uploading: 1000 }
      : { image_size_total: null, image_count_total: null, image_count_uploading: null };
    const res = await fetch(`${vitrine.url}/vitrine/v1/quotaDefaults`, {
      method: "PATCH",
      headers: { "content-type": "application/json", authorization: `Bearer ${vitrine.token}` },
      body: JSON.stringify({ limits }),
    });
    if (res.status !== 200) throw new Error(`quota defaults: ${res.status} ${await res.text()}`);
  };
  /** Medians of `rounds` measures with quotas off and on, alternated (drift hits both alike). */
  const offAndOn = async (rounds: number, measure: () => Promise<number>) => {
    const runs: Record<"on" | "off", number[]> = { on: [], off: [] };
    for (let i = 0; i < rounds; i++) {
      for (const state of ["off", "on"] as const) {
        await setQuotas(state === "on");
        runs[state].push(await measure());
      }
    }
    await setQuotas(false);
    return { on: percentile(runs.on, 50), off: percentile(runs.off, 50) };
  };
  const bigUploads = await offAndOn(3, async () => {
    const run = await uploadTo(vitrine.url, vAuth, randomFile);
    await fetch(`${vitrine.url}/v2/images/${run.uuid}`, { method: "DELETE", headers: vAuth });
    return run.mbps;
  });
  report.add({
    scenario: `1b. upload ${label} with quotas on (median of 3)`,
    subject: "vitrine",
    figure: bigUploads.on,
    unit: "MB/s",
    reference: { name: "the same upload, quotas off (median of 3)", figure: bigUploads.off },
    target: { min: 0.97, of: "ratio" },
  });

  // 1c. The fixed cost quotas add to each upload, where the bytes do not hide it: small uploads
  // (register + 64 KiB PUT) one after another, batches alternated, quotas off and on.
  console.log("1c. small uploads with quotas on");
  const smallBatches = await offAndOn(4, () => smallUploadsTo(vitrine, smoke ? 5 : 50));
  report.add({
    scenario: "1c. small uploads (register + 64 KiB PUT) with quotas on (median of 4 batches)",
    subject: "vitrine",
    figure: smallBatches.on,
    unit: "uploads/s",
    reference: { name: "quotas off (median of 4 batches)", figure: smallBatches.off },
    target: { min: 0.97, of: "ratio" },
  });

  // 2. Create from URI (Compute), the qcow2 served on loopback.
  console.log("2. create from URI");
  const files = await startFileServer();
  cleanups.push(() => files.close());
  const uri = files.serve("random.qcow2", qcow2);
  const t0 = performance.now();
  const created = await yc(vitrine, "POST", "/compute/v1/images", {
    folderId: "bench",
    name: "from-uri",
    uri,
  });
  const image = await waitOperation(vitrine, created.id);
  const fromUri = fs.statSync(qcow2).size / MB / ((performance.now() - t0) / 1000);
  for (const reference of [bothHashes, { name: "plain Node writer", figure: plainWriter }]) {
    report.add({
      scenario: `2. create from URI, ${label} qcow2 (Compute)`,
      subject: "vitrine",
      figure: fromUri,
      unit: "MB/s",
      reference,
    });
  }

  // 10. Conversion (README "Conversion and export"): the image just created (a qcow2 of random
  // data) exported to raw — qemu-img under prlimit, then the result sized, hashed (MD5 + SHA-512),
  // inspected and stored — against qemu-img convert alone on the same file, and against the same
  // work done by the command-line tools (qemu-img, then md5sum and sha512sum of what it wrote).
  console.log("10. conversion");
  const byTools = (): { convert: number; tools: number } => {
    const out = path.join(work, "qemu-img-alone.raw");
    const t = performance.now();
    execFileSync("qemu-img", ["convert", "-f", "qcow2", "-O", "raw", qcow2, out]);
    const convertSeconds = (performance.now() - t) / 1000;
    execFileSync("bash", ["-c", `md5sum ${out} >/dev/null & sha512sum ${out} >/dev/null; wait`]);
    const toolsSeconds = (performance.now() - t) / 1000;
    fs.rmSync(out);
    return { convert: size.upload / MB / convertSeconds, tools: size.upload / MB / toolsSeconds };
  };
  // The faster of two runs of each: the page cache warm, as it is for the service's blob.
  const runs = [byTools(), byTools()];
  const alone = Math.max(...runs.map((r) => r.convert));
  const tools = Math.max(...runs.map((r) => r.tools));
  const te = performance.now();
  const exported = await yc(vitrine, "POST", `/compute/v1/images/${image.id}:export`, {
    format: "raw",
  });
  await waitOperation(vitrine, exported.id);
  const conversion = size.upload / MB / ((performance.now() - te) / 1000);
  for (const [reference, target] of [
    [
      { name: "qemu-img convert alone", figure: alone },
      { min: 0.9, of: "ratio" as const },
    ],
    [{ name: "qemu-img + md5sum & sha512sum", figure: tools }, undefined],
  ] as const) {
    report.add({
      scenario: `10. convert ${label} qcow2 to raw (Compute :export)`,
      subject: "vitrine",
      figure: conversion,
      unit: "MB/s",
      reference,
      ...(target ? { target } : {}),
    });
  }

  // 3. Download, with the page cache controlled: the same state for Vitrine's blob and the
  // reference's file — cold (the files' cached pages dropped, `dd iflag=nocache`) and warm (each
  // read once before) — so the figure no longer swings with whatever the cache held.
  console.log("3. download");
  const blobLocation = (
    (await (await fetch(`${vitrine.url}/v2/images/${upload.uuid}/locations`, { headers: vAuth })).json()) as {
      url: string;
    }[]
  )[0]!.url;
  const blobFile = blobLocation.startsWith("file:") ? fileURLToPath(blobLocation) : null;
  const cacheStates = blobFile ? (["cold", "warm"] as const) : (["as is"] as const);
  let download = 0;
  for (const state of cacheStates) {
    const prepare = () => {
      for (const f of [randomFile, blobFile!]) {
        if (state === "cold") execFileSync("dd", [`if=${f}`, "iflag=nocache", "count=0", "status=none"]);
        if (state === "warm") execFileSync("dd", [`if=${f}`, "of=/dev/null", "bs=4M", "status=none"]);
      }
    };
    if (blobFile) prepare();
    const plainStream = await curlDownload(`${ref.url}/file`, {});
    if (blobFile) prepare();
    const figure = await curlDownload(`${vitrine.url}/v2/images/${upload.uuid}/file`, vAuth);
    if (state !== "cold") download = figure;
    report.add({
      scenario: `3. download ${label} (GET /v2/images/{id}/file), page cache ${state}`,
      subject: "vitrine",
      figure,
      unit: "MB/s",
      reference: { name: "plain Node file stream, 1 MiB chunks", figure: plainStream },
      target: { min: 0.9, of: "ratio" },
    });
  }
  if (s3Speed) {
    report.add({
      scenario: `3. download ${label} (GET /v2/images/{id}/file)`,
      subject: "vitrine",
      figure: download,
      unit: "MB/s",
      reference: { name: "S3 server via the SDK", figure: s3Speed.download },
      target: { min: 0.9, of: "ratio" },
    });
  }

  // 4. GET one image under load.
  console.log("4. GET one image (wrk)");
  const trivial: Record<number, Awaited<ReturnType<typeof wrk>>> = {};
  for (const c of [16, 64])
    trivial[c] = await wrk(`${ref.url}/json`, { connections: c, seconds: size.wrkSeconds });
  const vGet: Record<number, Awaited<ReturnType<typeof wrk>>> = {};
  const vComputeGet: Record<number, Awaited<ReturnType<typeof wrk>>> = {};
  for (const [name, url, headers] of [
    [
      "GET /compute/v1/images/{id}",
      `${vitrine.url}/compute/v1/images/${image.id}`,
      { authorization: `Bearer ${vitrine.token}` },
    ],
    ["GET /v2/images/{id}", `${vitrine.url}/v2/images/${upload.uuid}`, vAuth],
  ] as const) {
    for (const c of [16, 64]) {
      const r = await wrk(url, { connections: c, seconds: size.wrkSeconds, headers });
      if (r.errors > 0) throw new Error(`${name}: ${r.errors} failed responses under load`);
      if (name.startsWith("GET /v2")) vGet[c] = r;
      else vComputeGet[c] = r;
      const scenario = `4. ${name}, ${c} connections`;
      report.add({
        scenario,
        subject: "vitrine",
        figure: r.rps,
        unit: "req/s",
        reference: { name: "trivial Node server", figure: trivial[c]!.rps },
        target: { min: 0.4, of: "ratio" },
      });
      report.add({ scenario, subject: "vitrine p50", figure: r.p50Ms, unit: "ms" });
      report.add({
        scenario,
        subject: "vitrine p99",
        figure: r.p99Ms,
        unit: "ms",
        ...(c === 64 ? { target: { max: 10, of: "figure" as const } } : {}),
      });
    }
  }

  // 4g/5g. The same Compute calls over gRPC (plaintext, one channel), beside REST at the same concurrency.
  console.log("4g/5g. gRPC Get and List");
  const C = "yandex.cloud.compute.v1";
  const listRest: Record<number, Awaited<ReturnType<typeof wrk>>> = {};
  for (const c of [16, 64]) {
    listRest[c] = await wrk(`${vitrine.url}/compute/v1/images?folderId=big&pageSize=100`, {
      connections: c,
      seconds: size.wrkSeconds,
      headers: { authorization: `Bearer ${vitrine.token}` },
    });
  }
  for (const [scenario, call, rest] of [
    [
      "4g. gRPC compute ImageService.Get",
      {
        method: `/${C}.ImageService/Get`,
        requestType: `${C}.GetImageRequest`,
        responseType: `${C}.Image`,
        request: { imageId: image.id },
      },
      vComputeGet,
    ],
    [
      "5g. gRPC compute ImageService.List (100 per page)",
      {
        method: `/${C}.ImageService/List`,
        requestType: `${C}.ListImagesRequest`,
        responseType: `${C}.ListImagesResponse`,
        request: { folderId: "big", pageSize: "100" },
      },
      listRest,
    ],
  ] as const) {
    // The ceiling: a grpc-js server answering Vitrine's own response, under the same generator.
    const answer = (await (
      await fetch(
        call.method.endsWith("/Get")
          ? `${vitrine.url}/compute/v1/images/${image.id}`
          : `${vitrine.url}/compute/v1/images?folderId=big&pageSize=100`,
        { headers: { authorization: `Bearer ${vitrine.token}` } },
      )
    ).json()) as Record<string, unknown>;
    const trivialGrpc = await startTrivialGrpcServer({ path: call.method, ...call }, answer);
    for (const c of [16, 64]) {
      const ceiling = await grpcLoad(trivialGrpc.address, call, {
        token: vitrine.token,
        concurrency: c,
        seconds: size.wrkSeconds,
      });
      const r = await grpcLoad(vitrine.grpcAddress, call, {
        token: vitrine.token,
        concurrency: c,
        seconds: size.wrkSeconds,
      });
      if (r.errors > 0) throw new Error(`${scenario}: ${r.errors} failed calls under load`);
      const name = `${scenario}, ${c} streams`;
      report.add({
        scenario: name,
        subject: "vitrine gRPC",
        figure: r.rps,
        unit: "req/s",
        reference: { name: "trivial grpc-js server", figure: ceiling.rps },
        target: { min: 0.85, of: "ratio" },
      });
      report.add({
        scenario: name,
        subject: "vitrine REST (wrk)",
        figure: rest[c]!.rps,
        unit: "req/s",
        reference: { name: "vitrine gRPC", figure: r.rps },
      });
      // The list at 64 connections: the tail is the mean when every connection is served in turn.
      const tail =
        scenario.startsWith("5g") && c === 64 ? { target: { max: 100, of: "figure" as const } } : {};
      report.add({ scenario: name, subject: "gRPC p50", figure: r.p50Ms, unit: "ms" });
      report.add({ scenario: name, subject: "gRPC p99", figure: r.p99Ms, unit: "ms", ...tail });
      report.add({ scenario: name, subject: "REST p99", figure: rest[c]!.p99Ms, unit: "ms", ...tail });
    }
    await trivialGrpc.close();
  }

  // 5. List a page of 100 with `images` in the folder: first page and a deep one.
  console.log("5. list");
  const vList = await listLatencies(vitrine.url, vAuth, vitrineMarkers);
  for (const [name, r] of Object.entries(vList)) {
    for (const p of ["p50", "p99"] as const) {
      report.add({
        scenario: `5. list 100 of ${size.images} images, ${name}`,
        subject: `vitrine ${p}`,
        figure: r[p],
        unit: "ms",
        ...(p === "p50" ? { target: { max: 5, of: "figure" as const } } : {}),
      });
    }
  }

  // 5c. The web console's first load of the image list, the folder holding `images` images: from
  // navigation to the table shown (a fresh browser context each time, nothing cached).
  if (fs.existsSync(CHROMIUM)) {
    console.log("5c. console first load");
    const loads = await consoleFirstLoads(vitrine.url, vitrine.token, smoke ? 2 : 7);
    for (const p of ["p50", "max"] as const) {
      report.add({
        scenario: `5c. web console: image list shown, ${size.images} images in the folder (Chromium)`,
        subject: `first load ${p}`,
        figure: p === "p50" ? percentile(loads, 50) : Math.max(...loads),
        unit: "ms",
      });
    }
  } else console.log(`5c. skipped: no ${CHROMIUM} (apt install chromium)`);

  // 5m. A million images in one folder, on a node of its own: start-up (spawn to /healthz) and
  // the first and a deep page of the lists (keyset paging: a deep page costs what the first does).
  console.log(`5m. ${size.million} images`);
  const millionDir = path.join(work, "vitrine-million");
  fs.mkdirSync(millionDir);
  let million = await startVitrine(millionDir, backendEnv);
  await million.stop();
  const millionDeep = Math.floor(size.million * 0.9);
  // On PostgreSQL the installation is the one shared with the other scenarios: a folder of its own.
  const millionMarkers = pgS3
    ? { openstackDeep: await pgS3.seed(size.million, millionDeep, "million") }
    : seedVitrine(path.join(millionDir, "vitrine.sqlite"), size.million, millionDeep, "million");
  const startingAt = performance.now();
  million = await startVitrine(millionDir, backendEnv);
  cleanups.push(() => million.stop());
  report.add({
    scenario: `5m. start-up with ${size.million} images (spawn to /healthz answering)`,
    subject: "vitrine",
    figure: (performance.now() - startingAt) / 1000,
    unit: "s",
    target: { max: 2, of: "figure" },
  });
  const millionList = await listLatencies(
    million.url,
    { "x-auth-token": million.token },
    millionMarkers,
    true,
    millionDeep,
    "million",
  );
  for (const [name, r] of Object.entries(millionList)) {
    const scenario = `5m. list 100 of ${size.million} images, ${name}`;
    report.add({
      scenario,
      subject: "vitrine p50",
      figure: r.p50,
      unit: "ms",
      target: { max: 5, of: "figure" },
    });
    report.add({ scenario, subject: "vitrine p99", figure: r.p99, unit: "ms" });
    if (name.endsWith("deep page")) {
      const first = millionList[name.replace("deep page", "first page")]!;
      report.add({
        scenario,
        subject: "vitrine p50, deep page",
        figure: r.p50,
        unit: "ms",
        reference: { name: "the first page's p50", figure: first.p50 },
        target: { max: 1.25, of: "ratio" },
      });
    }
  }
  await million.stop();

  // 6. Create image metadata.
  console.log("6. create metadata");
  const vPost: Record<number, number> = {};
  for (const c of [1, 16]) {
    // Names are one image each in a folder: every run posts names of its own.
    const postScript = wrkPostScript(
      path.join(work, `post-${c}.lua`),
      { name: `bench-c${c}`, disk_format: "raw", container_format: "bare" },
      { "content-type": "application/json", ...vAuth },
      { uniqueName: true },
    );
    const r = await wrk(`${vitrine.url}/v2/images`, {
      connections: c,
      seconds: Math.max(1, size.wrkSeconds / 2),
      script: postScript,
    });
    if (r.errors > 0) throw new Error(`POST /v2/images: ${r.errors} failed responses`);
    vPost[c] = r.rps;
    report.add({
      scenario: `6. POST /v2/images, ${c === 1 ? "sequential" : "16 connections"}`,
      subject: "vitrine",
      figure: r.rps,
      unit: "req/s",
    });
  }
  // 6b. Operations: 64 clients each create images from the imported one (an operation that costs
  // one transaction: the bytes are shared), one after another; what counts is how soon queued
  // work starts.
  console.log("6b. operations");
  const opsClients = 64;
  const opsEach = args.smoke ? 2 : 8;
  const waits: number[] = [];
  const tOps = performance.now();
  await Promise.all(
    Array.from({ length: opsClients }, async (_, c) => {
      for (let i = 0; i < opsEach; i++) {
        const t = performance.now();
        const op = await yc(vitrine, "POST", "/compute/v1/images", {
          folderId: "bench-ops",
          name: `op-${c}-${i}`,
          imageId: image.id,
        });
        await waitOperation(vitrine, op.id);
        waits.push(performance.now() - t);
      }
    }),
  );
  report.add({
    scenario: `6b. create from image, ${opsClients} clients`,
    subject: "vitrine",
    figure: (opsClients * opsEach) / ((performance.now() - tOps) / 1000),
    unit: "ops/s",
  });
  report.add({
    scenario: `6b. create from image, ${opsClients} clients`,
    subject: "vitrine p50 create → done",
    figure: percentile(waits, 50),
    unit: "ms",
  });
  await vitrine.stop();

  // 7. Peak RSS during an upload four times the size, on a fresh server: it must not grow.
  console.log("7. peak RSS");
  const rssDir = path.join(work, "vitrine-rss");
  fs.mkdirSync(rssDir);
  const fresh = await startVitrine(rssDir, backendEnv);
  cleanups.push(() => fresh.stop());
  const freshAuth = { "x-auth-token": fresh.token };
  await uploadTo(fresh.url, freshAuth, randomFile);
  const rssSmall = peakRssMb(fresh.pid);
  await uploadTo(fresh.url, freshAuth, bigFile);
  const rssBig = peakRssMb(fresh.pid);
  report.add({
    scenario: "7. peak RSS of the server",
    subject: `after a ${(size.upload * size.rssFactor) / MiB} MiB upload`,
    figure: rssBig,
    unit: "MB",
    reference: { name: `after ${label}`, figure: rssSmall },
    target: { max: 256, of: "figure" },
  });
  await fresh.stop();

  // 11. Resumable uploads (README "Resumable transfers"): the same file over tus (one PATCH),
  // alternated with plain PUTs, medians of 3; then what one resume costs: the server restarted
  // under an upload with the large file stored, until its next request (1 MiB more) is answered.
  console.log("11. resumable upload");
  const resumeDir = path.join(work, "vitrine-resume");
  fs.mkdirSync(resumeDir);
  let resumable = await startVitrine(resumeDir, backendEnv);
  cleanups.push(() => resumable.stop());
  const rAuth = { "x-auth-token": resumable.token };
  const plainPuts: number[] = [];
  const tusPatches: number[] = [];
  for (let i = 0; i < 3; i++) {
    plainPuts.push((await uploadTo(resumable.url, rAuth, randomFile)).mbps);
    tusPatches.push((await resumableUploadTo(resumable.url, rAuth, randomFile, 0)).mbps);
  }
  report.add({
    scenario: `11. resumable upload ${label} (tus, one PATCH; median of 3)`,
    subject: "vitrine",
    figure: percentile(tusPatches, 50),
    unit: "MB/s",
    reference: { name: "plain PUT, median of 3", figure: percentile(plainPuts, 50) },
    target: { min: 0.9, of: "ratio" },
  });
  const bigBytes = fs.statSync(bigFile).size;
  const partial = await resumableUploadTo(resumable.url, rAuth, bigFile, MiB);
  await resumable.stop();
  resumable = await startVitrine(resumeDir, backendEnv);
  // The restarted server listens on another port; the upload is the same.
  const uploadUrl = new URL(new URL(partial.location).pathname, resumable.url).href;
  const continued = performance.now();
  const tus = { "x-auth-token": resumable.token, "tus-resumable": "1.0.0" };
  const head = await fetch(uploadUrl, { method: "HEAD", headers: tus });
  if (Number(head.headers.get("upload-offset")) !== bigBytes)
    throw new Error(`resume: offset ${head.status}`);
  const more = await fetch(uploadUrl, {
    method: "PATCH",
    headers: { ...tus, "content-type": "application/offset+octet-stream", "upload-offset": String(bigBytes) },
    body: new Uint8Array(MiB - 1),
  });
  if (more.status !== 204) throw new Error(`resume: ${more.status} ${await more.text()}`);
  report.add({
    scenario: `11b. a ${bigBytes / MiB} MiB partial upload goes on after a restart (HEAD + PATCH)`,
    subject: "vitrine",
    figure: (performance.now() - continued) / 1000,
    unit: "s",
    target: { max: 2, of: "figure" },
  });
  await fetch(uploadUrl, { method: "DELETE", headers: tus });
  await resumable.stop();

  // 12. The node cache (README "Stores, cache and regions"): an image in an S3 store (Swift's
  // s3api), downloaded once cold (from S3, the cache filled beside it) and then from the cache,
  // against an image of the same bytes in the directory store of the same node, read warm.
  console.log("12. node cache");
  const swift = await startSwiftS3();
  cleanups.push(() => swift.stop());
  const s3 = new S3Client({
    endpoint: swift.endpoint,
    region: swift.region,
    forcePathStyle: true,
    credentials: { accessKeyId: swift.accessKeyId, secretAccessKey: swift.secretAccessKey },
  });
  await s3.send(new CreateBucketCommand({ Bucket: "bench-cache" }));
  s3.destroy();
  const cacheDir = path.join(work, "vitrine-cache");
  fs.mkdirSync(cacheDir);
  const cached = await startVitrine(cacheDir, {
    VITRINE_STORES: "remote=s3://bench-cache/images",
    VITRINE_DEFAULT_STORE: "remote",
    VITRINE_S3_ENDPOINT: swift.endpoint,
    VITRINE_S3_REGION: swift.region,
    AWS_ACCESS_KEY_ID: swift.accessKeyId,
    AWS_SECRET_ACCESS_KEY: swift.secretAccessKey,
    VITRINE_CACHE_SIZE: String(4 * size.upload),
  });
  cleanups.push(() => cached.stop());
  const cAuth = { "x-auth-token": cached.token };
  const inS3 = await uploadTo(cached.url, cAuth, randomFile);
  const inDir = await uploadTo(cached.url, { ...cAuth, "x-image-meta-store": "fs" }, randomFile);
  const fromS3 = await curlDownload(`${cached.url}/v2/images/${inS3.uuid}/file`, cAuth);
  const fromCache: number[] = [];
  const fromDir: number[] = [];
  for (let i = 0; i < 3; i++) {
    fromDir.push(await curlDownload(`${cached.url}/v2/images/${inDir.uuid}/file`, cAuth));
    fromCache.push(await curlDownload(`${cached.url}/v2/images/${inS3.uuid}/file`, cAuth));
  }
  report.add({
    scenario: `12. download ${label} from an S3 store through the node cache (median of 3)`,
    subject: "vitrine, cached",
    figure: percentile(fromCache, 50),
    unit: "MB/s",
    reference: {
      name: "the directory store's download, same node, median of 3",
      figure: percentile(fromDir, 50),
    },
    target: { min: 0.9, of: "ratio" },
  });
  report.add({
    scenario: `12. download ${label} from an S3 store through the node cache (median of 3)`,
    subject: "vitrine, cold (from S3, filling the cache)",
    figure: fromS3,
    unit: "MB/s",
  });
  await cached.stop();

  // 13. Events and audit (README "Events and audit"): the same node started with both on (the
  // default: every change writes its event in its transaction, the publisher polls the outbox,
  // mutations are audited) and with both off, alternated three times; GET under load, one big
  // upload, and small uploads (register + 64 KiB PUT: four events and two audit records each,
  // where the fixed cost shows). No broker or webhook: what is measured is the request's cost.
  console.log("13. events and audit on vs off");
  const eventRuns: Record<"on" | "off", { get: number[]; upload: number[]; small: number[] }> = {
    on: { get: [], upload: [], small: [] },
    off: { get: [], upload: [], small: [] },
  };
  for (let round = 0; round < (smoke ? 1 : 3); round++) {
    for (const state of ["off", "on"] as const) {
      const env: Record<string, string> =
        state === "off" ? { VITRINE_EVENTS: "off", VITRINE_AUDIT: "off" } : {};
      const v = await startVitrine(dataDir, { ...backendEnv, ...env });
      cleanups.push(() => v.stop());
      const auth = { "x-auth-token": v.token };
      const get = await wrk(`${v.url}/v2/images/${upload.uuid}`, {
        connections: 64,
        seconds: size.wrkSeconds,
        headers: auth,
      });
      if (get.errors > 0) throw new Error(`events ${state}: failed responses under load`);
      eventRuns[state].get.push(get.rps);
      const big = await uploadTo(v.url, auth, randomFile);
      await fetch(`${v.url}/v2/images/${big.uuid}`, { method: "DELETE", headers: auth });
      eventRuns[state].upload.push(big.mbps);
      eventRuns[state].small.push(await smallUploadsTo(v, smoke ? 5 : 50));
      await v.stop();
    }
  }
  for (const [what, unit, pick] of [
    ["GET /v2/images/{id}, 64 connections", "req/s", (r: (typeof eventRuns)["on"]) => r.get],
    [`upload ${label}`, "MB/s", (r: (typeof eventRuns)["on"]) => r.upload],
    ["small uploads (register + 64 KiB PUT)", "uploads/s", (r: (typeof eventRuns)["on"]) => r.small],
  ] as const) {
    report.add({
      scenario: `13. ${what}, events and audit on (median of 3)`,
      subject: "vitrine",
      figure: percentile(pick(eventRuns.on), 50),
      unit,
      reference: { name: "events and audit off (median of 3)", figure: percentile(pick(eventRuns.off), 50) },
      target: { min: 0.95, of: "ratio" },
    });
  }

  // 14. Memory under a mixed load: 64 clients, each going round a mix of what clients do (GETs
  // in both dialects, lists, small uploads that are then deleted, downloads of an 8 MiB image),
  // for `mixedSeconds`, on a fresh node over the catalog of the scenarios before. The server's
  // RSS is read every second: its peak, and whether it stays flat (the last minute against the
  // second: the first holds the warm-up).
  console.log(`14. 64 mixed clients for ${size.mixedSeconds} s`);
  {
    const v = await startVitrine(dataDir, backendEnv);
    cleanups.push(() => v.stop());
    const auth = { "x-auth-token": v.token };
    const bearer = { authorization: `Bearer ${v.token}` };
    const eight = path.join(work, "eight.raw");
    fs.writeFileSync(eight, fs.readFileSync(randomFile).subarray(0, 8 * MiB));
    const small = await uploadTo(v.url, auth, eight);
    const body = Buffer.alloc(256 * 1024, 3);
    const expect = async (res: Response, status: number, what: string) => {
      await res.arrayBuffer();
      if (res.status !== status) throw new Error(`${what}: ${res.status}`);
    };
    const ops: (() => Promise<void>)[] = [
      async () => expect(await fetch(`${v.url}/v2/images/${upload.uuid}`, { headers: auth }), 200, "GET"),
      async () =>
        expect(
          await fetch(`${v.url}/compute/v1/images/${image.id}`, { headers: bearer }),
          200,
          "GET compute",
        ),
      async () =>
        expect(
          await fetch(`${v.url}/compute/v1/images?folderId=big&pageSize=100`, { headers: bearer }),
          200,
          "list compute",
        ),
      async () => expect(await fetch(`${v.url}/v2/images?limit=100`, { headers: auth }), 200, "list"),
      async () => {
        const id = await smallUpload(v.url, auth, body, "mixed");
        await expect(
          await fetch(`${v.url}/v2/images/${id}`, { method: "DELETE", headers: auth }),
          204,
          "delete",
        );
      },
      async () =>
        expect(await fetch(`${v.url}/v2/images/${small.uuid}/file`, { headers: auth }), 200, "download"),
    ];
    const rss: number[] = [];
    const sampler = setInterval(() => {
      const status = fs.readFileSync(`/proc/${v.pid}/status`, "utf8");
      rss.push((Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]) * 1024) / MB);
    }, 1000);
    const until = performance.now() + size.mixedSeconds * 1000;
    let done = 0;
    let failed = 0;
    try {
      await Promise.all(
        Array.from({ length: 64 }, async (_, client) => {
          for (let n = client; performance.now() < until; n++) {
            try {
              await ops[n % ops.length]!();
              done++;
            } catch (err) {
              if (failed++ === 0) console.log(`  first failure: ${(err as Error).message}`);
            }
          }
        }),
      );
    } finally {
      clearInterval(sampler);
    }
    if (failed > done / 100) throw new Error(`mixed load: ${failed} of ${done + failed} requests failed`);
    const scenario = `14. 64 mixed clients for ${size.mixedSeconds} s (GET, list, 256 KiB uploads, 8 MiB downloads)`;
    report.add({
      scenario,
      subject: "peak RSS of the server",
      figure: peakRssMb(v.pid),
      unit: "MB",
      target: { max: 256, of: "figure" },
    });
    const minute = Math.min(60, Math.floor(rss.length / 3));
    report.add({
      scenario,
      subject: "RSS, median of the last minute",
      figure: percentile(rss.slice(-minute), 50),
      unit: "MB",
      reference: {
        name: "median of the second minute",
        figure: percentile(rss.slice(minute, 2 * minute), 50),
      },
      target: { max: 1.1, of: "ratio" },
    });
    report.add({ scenario, subject: "requests", figure: done / size.mixedSeconds, unit: "req/s" });
    console.log(`  ${done} requests, ${failed} failed`);
    await v.stop();
  }

  // 9. Every core: GET, list and four concurrent uploads with one worker process and with two.
  // The machine has 2 CPUs: none is left to pin the load generators to, so they are not pinned.
  console.log("9. --workers 1 and 2");
  const perWorkers: Record<number, { get: number; list: number; uploads: number }> = {};
  for (const workers of [1, 2]) {
    const v = await startVitrine(dataDir, { ...backendEnv, VITRINE_WORKERS: String(workers) });
    cleanups.push(() => v.stop());
    // /healthz answers once the first worker listens; give the others their start-up time too.
    await new Promise((r) => setTimeout(r, 3000 * (workers - 1)));
    const auth = { "x-auth-token": v.token };
    const get = await wrk(`${v.url}/v2/images/${upload.uuid}`, {
      connections: 64,
      seconds: size.wrkSeconds,
      headers: auth,
    });
    const list = await wrk(`${v.url}/compute/v1/images?folderId=big&pageSize=100`, {
      connections: 16,
      seconds: size.wrkSeconds,
      headers: { authorization: `Bearer ${v.token}` },
    });
    if (get.errors + list.errors > 0) throw new Error(`--workers ${workers}: failed responses under load`);
    const t = performance.now();
    await Promise.all(Array.from({ length: 4 }, () => uploadTo(v.url, auth, randomFile)));
    const uploads = (4 * size.upload) / MB / ((performance.now() - t) / 1000);
    perWorkers[workers] = { get: get.rps, list: list.rps, uploads };
    await v.stop();
  }
  for (const [what, unit, pick] of [
    ["GET /v2/images/{id}, 64 connections", "req/s", (r: (typeof perWorkers)[1]) => r.get],
    ["GET /compute/v1/images (100 per page), 16 connections", "req/s", (r: (typeof perWorkers)[1]) => r.list],
    [`4 concurrent ${label} uploads, aggregate`, "MB/s", (r: (typeof perWorkers)[1]) => r.uploads],
  ] as const) {
    report.add({
      scenario: `9. ${what}`,
      subject: "--workers 2",
      figure: pick(perWorkers[2]!),
      unit,
      reference: { name: "--workers 1", figure: pick(perWorkers[1]!) },
    });
  }

  // 8. The same against Glance.
  if (args.peer === "glance") {
    console.log("8. peer: glance");
    const glance = await startGlance(path.join(work, "glance"));
    cleanups.push(() => glance.stop());
    const glanceMarkers = seedGlanceMarkers(glance, size.images);
    const gUpload = await uploadTo(glance.url, {}, randomFile);
    peer("1. upload", upload.mbps, gUpload.mbps, "MB/s", 1.5);
    const gDownload = await curlDownload(`${glance.url}/v2/images/${gUpload.uuid}/file`, {});
    peer("3. download", download, gDownload, "MB/s");
    for (const c of [16, 64]) {
      const r = await wrk(`${glance.url}/v2/images/${gUpload.uuid}`, {
        connections: c,
        seconds: size.wrkSeconds,
      });
      if (r.errors > 0) throw new Error(`glance GET: ${r.errors} failed responses`);
      peer(`4. GET /v2/images/{id}, ${c} connections`, vGet[c]!.rps, r.rps, "req/s", 10);
      report.add({
        scenario: `4. GET /v2/images/{id}, ${c} connections`,
        subject: "glance p99",
        figure: r.p99Ms,
        unit: "ms",
      });
    }
    const gList = await listLatencies(glance.url, {}, glanceMarkers, false);
    for (const [name, r] of Object.entries(gList)) {
      peer(
        `5. list 100 of ${size.images}, ${name} (p50; ratio below 1: Vitrine faster)`,
        vList[name]!.p50,
        r.p50,
        "ms",
      );
    }
    const gScript = wrkPostScript(
      path.join(work, "post-glance.lua"),
      { name: "bench", disk_format: "raw", container_format: "bare" },
      {
        "content-type": "application/json",
      },
    );
    for (const c of [1, 16]) {
      const r = await wrk(`${glance.url}/v2/images`, {
        connections: c,
        seconds: Math.max(1, size.wrkSeconds / 2),
        script: gScript,
      });
      if (r.errors > 0) throw new Error(`glance POST: ${r.errors} failed responses`);
      peer(`6. POST /v2/images, ${c === 1 ? "sequential" : "16 connections"}`, vPost[c]!, r.rps, "req/s");
    }
  }
} finally {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  fs.rmSync(work, { recursive: true, force: true });
}

report.print();
const file = report.write(outDir, {
  command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`,
  smoke,
  peer: args.peer ?? null,
  backend: args.backend,
  sizes: size,
  seconds: Math.round((Date.now() - started) / 1000),
  at: new Date().toISOString(),
});
console.log(`\nwritten to ${file} (${Math.round((Date.now() - started) / 1000)} s)`);

/** A row comparing Vitrine with Glance: the ratio is always Vitrine/Glance. */
function peer(
  scenario: string,
  vitrineFigure: number,
  glanceFigure: number,
  unit: string,
  min?: number,
): void {
  report.add({
    scenario,
    subject: "vitrine vs glance",
    figure: vitrineFigure,
    unit,
    reference: { name: "glance", figure: glanceFigure },
    ...(min !== undefined ? { target: { min, of: "ratio" as const } } : {}),
  });
}

function writeRandom(file: string, bytes: number): void {
  const fd = fs.openSync(file, "w");
  const chunk = Buffer.alloc(16 * MiB);
  for (let left = bytes; left > 0; left -= chunk.length) {
    const n = Math.min(left, chunk.length);
    randomFillSync(chunk, 0, n);
    fs.writeSync(fd, chunk, 0, n);
  }
  fs.closeSync(fd);
}

/** `n` small uploads one after another (register + 64 KiB PUT): uploads a second. */
async function smallUploadsTo(v: VitrineUnderTest, n: number): Promise<number> {
  const auth = { "x-auth-token": v.token };
  const small = Buffer.alloc(64 * 1024, 1);
  const t = performance.now();
  for (let i = 0; i < n; i++) await smallUpload(v.url, auth, small, "bench-small");
  return n / ((performance.now() - t) / 1000);
}

/** Registers an image (named `prefix-<uuid>`) and uploads `body` to it in one PUT; its id. */
async function smallUpload(
  base: string,
  auth: Record<string, string>,
  body: Buffer,
  prefix: string,
): Promise<string> {
  const created = await fetch(`${base}/v2/images`, {
    method: "POST",
    headers: { "content-type": "application/json", ...auth },
    body: JSON.stringify({ name: `${prefix}-${randomUUID()}`, disk_format: "raw", container_format: "bare" }),
  });
  const { id } = (await created.json()) as { id: string };
  const put = await fetch(`${base}/v2/images/${id}/file`, {
    method: "PUT",
    headers: { "content-type": "application/octet-stream", ...auth },
    body,
  });
  if (put.status !== 204) throw new Error(`small upload: ${put.status} ${await put.text()}`);
  return id;
}

/** Creates an image through the OpenStack API and uploads `file` to it with curl. */
async function uploadTo(
  base: string,
  auth: Record<string, string>,
  file: string,
): Promise<{ uuid: string; mbps: number }> {
  const res = await fetch(`${base}/v2/images`, {
    method: "POST",
    headers: { "content-type": "application/json", ...auth },
    // Names are one image each in a folder (the default profile): each upload its own.
    body: JSON.stringify({
      name: `bench-upload-${randomUUID()}`,
      disk_format: "raw",
      container_format: "bare",
    }),
  });
  if (res.status !== 201) throw new Error(`create image: ${res.status} ${await res.text()}`);
  const { id } = (await res.json()) as { id: string };
  return { uuid: id, mbps: await curlUpload(`${base}/v2/images/${id}/file`, file, auth) };
}

/**
 * Uploads `file` over tus into a new image in one PATCH (curl), announcing `extra` more bytes
 * than it sends (0: the upload completes). Returns the upload's URL and the PATCH's MB/s.
 */
async function resumableUploadTo(
  base: string,
  auth: Record<string, string>,
  file: string,
  extra: number,
): Promise<{ location: string; mbps: number }> {
  const image = await fetch(`${base}/v2/images`, {
    method: "POST",
    headers: { "content-type": "application/json", ...auth },
    body: JSON.stringify({ name: `bench-tus-${randomUUID()}`, disk_format: "raw", container_format: "bare" }),
  });
  if (image.status !== 201) throw new Error(`create image: ${image.status} ${await image.text()}`);
  const { id } = (await image.json()) as { id: string };
  const tus = { ...auth, "tus-resumable": "1.0.0" };
  const created = await fetch(`${base}/v2/images/${id}/file`, {
    method: "POST",
    headers: { ...tus, "upload-length": String(fs.statSync(file).size + extra) },
  });
  if (created.status !== 201) throw new Error(`tus create: ${created.status} ${await created.text()}`);
  const location = new URL(created.headers.get("location")!, `${base}/v2/images/${id}/file`).href;
  const mbps = await curlUpload(
    location,
    file,
    { ...tus, "content-type": "application/offset+octet-stream", "upload-offset": "0" },
    "PATCH",
  );
  return { location, mbps };
}

async function yc(v: VitrineUnderTest, method: string, p: string, body?: unknown): Promise<any> {
  const res = await fetch(v.url + p, {
    method,
    headers: { authorization: `Bearer ${v.token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status !== 200) throw new Error(`${method} ${p}: ${res.status} ${await res.text()}`);
  return res.json();
}

async function waitOperation(v: VitrineUnderTest, id: string): Promise<any> {
  for (;;) {
    const op = await yc(v, "GET", `/operations/${id}`);
    if (op.done) {
      if (!op.response) throw new Error(`operation failed: ${JSON.stringify(op.error)}`);
      return op.response;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface Markers {
  /** The OpenStack id of the image `deep` rows into the default order (created_at desc). */
  openstackDeep: string;
}

/** Seeds `count` images into `folder` of a stopped Vitrine; returns the deep page's marker. */
function seedVitrine(dbFile: string, count: number, deep = size.deep, folder = "big"): Markers {
  const db = new Database(dbFile);
  const insert =
    db.prepare(`insert into images (id, uuid, kind, folder_id, name, status, created_at, updated_at, min_disk_size, size)
    values (?, ?, 'compute', ?, ?, 'active', ?, ?, 1073741824, 1000)`);
  const uuids: string[] = [];
  db.transaction(() => {
    for (let i = 0; i < count; i++) {
      const uuid = crypto.randomUUID();
      uuids.push(uuid);
      insert.run(
        "a" + i.toString(36).padStart(19, "0"),
        uuid,
        folder,
        `img-${i}`,
        1_700_000_000_000 + i,
        1_700_000_000_000 + i,
      );
    }
  })();
  db.close();
  return { openstackDeep: uuids[count - 1 - deep]! };
}

function seedGlanceMarkers(glance: GlancePeer, count: number): Markers {
  glance.seed(count, "big");
  const db = new Database(path.join(work, "glance", "glance.db"), { readonly: true });
  const row = db
    .prepare("select id from images where owner = 'big' order by created_at desc, id desc limit 1 offset ?")
    .get(size.deep) as { id: string };
  db.close();
  return { openstackDeep: row.id };
}

/**
 * p50/p99 of the first page of 100 and of a page `deep` rows in: the OpenStack list (default
 * order, marker paging) and, for Vitrine, the Compute list of the folder (page-token paging).
 */
async function listLatencies(
  base: string,
  auth: Record<string, string>,
  markers: Markers,
  compute = true,
  deep = size.deep,
  folder = "big",
): Promise<Record<string, { p50: number; p99: number }>> {
  const get = (p: string, headers: Record<string, string>) => async () => {
    const res = await fetch(base + p, { headers });
    if (res.status !== 200) throw new Error(`${p}: ${res.status}`);
    await res.arrayBuffer();
  };
  const out: Record<string, { p50: number; p99: number }> = {};
  out["OpenStack first page"] = await latency(size.samples, get("/v2/images?limit=100", auth));
  out["OpenStack deep page"] = await latency(
    size.samples,
    get(`/v2/images?limit=100&marker=${markers.openstackDeep}`, auth),
  );
  if (compute) {
    const bearer = { authorization: `Bearer ${auth["x-auth-token"]}` };
    let pageToken = "";
    for (let skipped = 0; skipped + 1000 <= deep; skipped += 1000) {
      const res = await fetch(
        `${base}/compute/v1/images?folderId=${folder}&pageSize=1000${pageToken ? `&pageToken=${pageToken}` : ""}`,
        {
          headers: bearer,
        },
      );
      pageToken = ((await res.json()) as { nextPageToken: string }).nextPageToken;
    }
    out["Compute first page"] = await latency(
      size.samples,
      get(`/compute/v1/images?folderId=${folder}&pageSize=100`, bearer),
    );
    out["Compute deep page"] = await latency(
      size.samples,
      get(`/compute/v1/images?folderId=${folder}&pageSize=100&pageToken=${pageToken}`, bearer),
    );
  }
  return out;
}
