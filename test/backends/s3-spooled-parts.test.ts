import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { after, before, describe, it } from "node:test";
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { runDoctor } from "../../src/cli/doctor.js";
import { openSqliteCatalog } from "../../src/storage/meta/open-catalog.js";
import { S3BlobStore, s3Client } from "../../src/storage/blob/s3-blob-store.js";
import { tempDir } from "../helpers/server.js";
import { type SwiftS3, startSwiftS3 } from "../helpers/swift.js";

const MIB = 1024 * 1024;

/**
 * Parts too large for memory are spooled to a file and streamed to S3; the SDK cannot retry a
 * streamed body, so the writer does. A 503 injected on the first attempt of each spooled part
 * must cost nothing but a retry.
 */
describe("S3 blob store: spooled parts", () => {
  let swift: SwiftS3;
  let client: S3Client;

  before(async () => {
    swift = await startSwiftS3();
    process.env.AWS_ACCESS_KEY_ID = swift.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = swift.secretAccessKey;
    client = s3Client({ endpoint: swift.endpoint, region: swift.region, forcePathStyle: true });
    await client.send(new CreateBucketCommand({ Bucket: "spool" }));
  });
  after(async () => {
    client?.destroy();
    await swift?.stop();
  });

  it("a blob whose parts outgrow memory is stored intact through injected 503s, spool emptied", async () => {
    const failedParts: number[] = [];
    // Inside the SDK's retry loop, as a server's 503 would be.
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { PartNumber?: number };
        if (context.commandName === "UploadPartCommand" && !failedParts.includes(input.PartNumber!)) {
          failedParts.push(input.PartNumber!);
          throw Object.assign(new Error("Service Unavailable (injected)"), {
            name: "ServiceUnavailable",
            $fault: "server",
            $metadata: { httpStatusCode: 503 },
          });
        }
        return next(args);
      },
      { step: "deserialize", name: "injectFirstAttemptFailure" },
    );
    const spoolDir = tempDir("spool");
    const store = await new S3BlobStore(client, {
      bucket: "spool",
      prefix: "",
      spoolDir,
      parts: { firstPartBytes: 5 * MIB, memoryPartBytes: 5 * MIB, partsPerStep: 1 },
    }).init();

    // 5 + 5 MiB in memory, then 10, 20 and the last 5 MiB spooled.
    const sent = createHash("sha512");
    async function* chunks() {
      for (let i = 0; i < 45; i++) {
        const c = Buffer.alloc(MIB, i);
        sent.update(c);
        yield c;
      }
    }
    const writer = await store.createWriter("big", "t");
    await pipeline(Readable.from(chunks()), writer.stream);
    await writer.commit();

    const read = createHash("sha512");
    for await (const c of await store.read("big")) read.update(c as Buffer);
    assert.equal(read.digest("hex"), sent.digest("hex"));
    assert.deepEqual(failedParts.sort(), [1, 2, 3, 4, 5], "every part failed once and was retried");
    assert.deepEqual(fs.readdirSync(spoolDir), []);
    assert.deepEqual(await store.listPendingTags(), []);
  });

  it("start-up removes the parts a dead process spooled, keeps a live one's", async () => {
    const spoolDir = tempDir("spool");
    fs.writeFileSync(`${spoolDir}/999999999-aaaa.part`, "left by a dead process");
    fs.writeFileSync(`${spoolDir}/${process.pid}-bbbb.part`, "being written");
    await new S3BlobStore(client, { bucket: "spool", prefix: "", spoolDir }).init();
    assert.deepEqual(fs.readdirSync(spoolDir), [`${process.pid}-bbbb.part`]);
  });
});

/**
 * A writer killed between starting its multipart upload and recording the upload's id in its
 * pending marker leaves exactly this: a marker without an upload id, and an upload S3 keeps open.
 * The state is made here the way such a kill leaves it; cleanup and `vitrine doctor` must find it.
 */
describe("S3 blob store: a multipart upload started by a writer killed before it recorded it", () => {
  let swift: SwiftS3;
  let client: S3Client;
  const bucket = "killed";

  before(async () => {
    swift = await startSwiftS3();
    process.env.AWS_ACCESS_KEY_ID = swift.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = swift.secretAccessKey;
    client = s3Client({ endpoint: swift.endpoint, region: swift.region, forcePathStyle: true });
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  });
  after(async () => {
    client?.destroy();
    await swift?.stop();
  });

  const openUploads = async () =>
    (await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? [];

  /** What the kill leaves: the marker (no upload id yet) and the started upload. */
  const killedWriter = async (tag: string, key: string) => {
    await client.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: `pending/${tag}/${key}`,
        Body: JSON.stringify({ key: `blobs/${key}`, uploadId: null }),
      }),
    );
    await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: `blobs/${key}` }));
  };

  it("cleanup (discardPending of its tag) aborts the upload the marker never named", async () => {
    const store = await new S3BlobStore(client, { bucket, prefix: "", spoolDir: tempDir("spool") }).init();
    await killedWriter("upload-image1", "blob1");
    assert.equal((await openUploads()).length, 1);
    assert.deepEqual(await store.listPendingTags(), ["upload-image1"]);
    await store.discardPending("upload-image1");
    assert.deepEqual(await openUploads(), [], "no multipart upload is left open");
    assert.deepEqual(await store.listPendingTags(), []);
  });

  it("vitrine doctor reports an open upload no writer claims, and it can be aborted", async () => {
    const dataDir = tempDir("doctor-s3");
    await (await openSqliteCatalog(path.join(dataDir, "vitrine.sqlite"))).close();
    // Its marker already swept (as start-up cleanup did before the fix): nothing claims it.
    await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: "blobs/lost" }));
    const config = {
      dataDir,
      databaseUrl: null,
      s3: { bucket, prefix: "", endpoint: swift.endpoint, region: swift.region, forcePathStyle: true },
      idleTimeoutMs: 300_000,
    };
    const report = await runDoctor(config, { verify: false, repair: true, showProgress: false });
    const found = report.findings.filter((f) => f.kind === "unfinished-upload");
    assert.equal(found.length, 1, JSON.stringify(report.findings));
    assert.match(found[0]!.blob, /^blobs\/lost\?uploadId=/);
    assert.match(found[0]!.detail, /kept: younger than an hour/);
    assert.ok(!fs.existsSync(path.join(dataDir, "s3-spool")), "doctor makes no spool directory");
    const store = new S3BlobStore(client, { bucket, prefix: "" });
    await store.abortUnfinished(found[0]!.blob);
    assert.deepEqual(await openUploads(), []);
  });
});
