import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { after, before, describe, it } from "node:test";
import { VitrineError } from "../../src/core/errors.js";
import type { Image } from "../../src/core/image.js";
import type { CreateImageInput } from "../../src/core/images/create-image.js";
import type { DeclaredFormats } from "../../src/core/format-policy.js";
import { type FileServer, startFileServer } from "../helpers/file-server.js";
import { type Fixture, image as fixture, qemuImg } from "../helpers/fixtures.js";
import {
  ADMIN,
  type InProcess,
  creation,
  member,
  registration,
  settled,
  startInProcess,
} from "../helpers/in-process.js";
import { tempDir } from "../helpers/server.js";

/**
 * Conversion on ingest, compressed sources and exports, in process on the real stores with the
 * real qemu-img: every input format to every target, each result compared with `qemu-img
 * compare` against its source (the guest sees the same disk).
 */
const alice = member("alice", "cv", "editor");
const work = tempDir("conversion");

/** qemu-img's name of each format. */
const DRIVER: Record<string, string> = {
  raw: "raw",
  qcow2: "qcow2",
  vmdk: "vmdk",
  vhd: "vpc",
  vhdx: "vhdx",
  vdi: "vdi",
};
const INPUTS: Record<string, () => Fixture> = {
  qcow2: () => fixture("qcow2", 16),
  vmdk: () => fixture("vmdk", 16),
  vhd: () => fixture("vpc", 16, "force_size=on"),
  vhdx: () => fixture("vhdx", 16),
  vdi: () => fixture("vdi", 16),
  raw: () => fixture("raw", 16),
};
const TARGETS = ["raw", "qcow2", "vmdk", "vhd", "vhdx"] as const;

function rejectsWith(reason: string) {
  return (err: unknown) => {
    assert.ok(err instanceof VitrineError, String(err));
    assert.equal(err.reason, reason, err.message);
    return true;
  };
}

describe("conversion use cases", () => {
  let env: InProcess;
  let files: FileServer;
  before(async () => {
    env = await startInProcess({
      VITRINE_COMPUTE_URI_FORMATS: "raw,qcow2,vmdk,vhd,vhdx,vdi",
      VITRINE_CONVERSION_SCRATCH_DIR: path.join(work, "scratch"),
    });
    files = await startFileServer();
  });
  after(async () => {
    await env.close();
    await files.close();
  });

  async function create(folder: string, uri: string, fields: Partial<CreateImageInput> = {}) {
    const who = member("alice", folder, "editor");
    const op = await settled(
      env.core,
      who,
      await env.core.images.create(who, creation(uri, { folderId: folder, ...fields })),
      60_000,
    );
    return {
      op,
      image: await env.core.images.get(who, { kind: "compute", id: op.resourceId }).catch(() => null),
    };
  }

  /** The blob of `img` as a file, to hand to qemu-img compare. */
  async function blobFile(img: Image, name: string): Promise<string> {
    const file = path.join(work, name);
    await pipeline(await env.blobs.read(img.blobKey!), fs.createWriteStream(file));
    return file;
  }

  function assertSameDisk(a: string, aFormat: string, b: string, bFormat: string): void {
    // Exit 0: identical guest content (1: different, 2: an error).
    execFileSync("qemu-img", ["compare", "-q", "-f", DRIVER[aFormat]!, "-F", DRIVER[bFormat]!, a, b]);
  }

  for (const target of TARGETS) {
    it(`converts every format that arrives to ${target}, keeping the guest's disk the same`, async () => {
      const folder = `to-${target}`;
      await env.core.conversion.setSettings(ADMIN, folder, { target, keep: [] });
      for (const [format, make] of Object.entries(INPUTS)) {
        const input = make();
        const uri = files.serve(`${folder}-${format}`, input.path);
        const { op, image: img } = await create(folder, uri, { name: `${format}-to-${target}` });
        assert.equal(op.error, null, `${format} → ${target}: ${op.error?.message}`);
        assert.ok(img);
        assert.equal(img.status, "active");
        assert.equal(img.diskFormat, target, `${format} → ${target}`);
        const converted = format !== target;
        if (converted) {
          assert.equal(img.properties.vitrine_original_disk_format, format);
          assert.equal(img.properties.vitrine_original_size, String(input.size));
          assert.equal(img.properties.vitrine_original_checksum, input.md5);
          assert.equal(img.properties.vitrine_original_os_hash_value, input.sha512);
        } else {
          assert.equal(
            img.checksumSha512,
            input.sha512,
            "data already in the target format is kept as it came",
          );
          assert.equal(img.properties.vitrine_original_disk_format, undefined);
        }
        assert.ok((img.virtualSize ?? 0) >= input.virtualSize);
        const stored = await blobFile(img, `${folder}-${format}.out`);
        assertSameDisk(input.path, format, stored, target);
        // What is stored is what the image's checksum says.
        const sha = execFileSync("sha512sum", [stored], { encoding: "utf8" }).split(" ")[0];
        assert.equal(sha, img.checksumSha512);
        fs.rmSync(stored);
      }
    });
  }

  it("keeps the formats a folder lists, and follows the installation's policy once its own is removed", async () => {
    await env.core.conversion.setSettings(ADMIN, "keep", { target: "raw", keep: ["qcow2"] });
    const q = INPUTS.qcow2!();
    const kept = await create("keep", files.serve("keep-q", q.path), { name: "kept" });
    assert.equal(kept.image?.diskFormat, "qcow2");
    assert.equal(kept.image?.checksumSha512, q.sha512);
    const v = await create("keep", files.serve("keep-v", INPUTS.vmdk!().path), { name: "vmdk" });
    assert.equal(v.image?.diskFormat, "raw");
    const settings = await env.core.conversion.setSettings(ADMIN, "keep", null);
    assert.deepEqual(settings.policy, { target: null, keep: [] });
    const after = await create("keep", files.serve("keep-v2", INPUTS.vmdk!().path), { name: "vmdk-2" });
    assert.equal(after.image?.diskFormat, "vmdk");
    await assert.rejects(
      env.core.conversion.setSettings(alice, "cv", { target: "raw", keep: [] }),
      (err: unknown) => err instanceof VitrineError && err.code === "PERMISSION_DENIED",
    );
    await assert.rejects(env.core.conversion.setSettings(ADMIN, "cv", { target: "iso", keep: [] }), /target/);
  });

  it("decompresses gzip, xz, zstd and bzip2 sources by signature, whatever their names", async () => {
    const q = INPUTS.qcow2!();
    for (const [codec, command] of [
      ["gzip", ["gzip", "-c"]],
      ["xz", ["xz", "-c", "-T1"]],
      ["zstd", ["zstd", "-c", "-q"]],
      ["bzip2", ["bzip2", "-c"]],
    ] as const) {
      const file = path.join(work, `disk-${codec}.qcow2`); // the name says nothing of the compression
      fs.writeFileSync(
        file,
        execFileSync(command[0], [...command.slice(1), q.path], { maxBuffer: 64 << 20 }),
      );
      const { op, image: img } = await create("cv", files.serve(`c-${codec}`, file), {
        name: `compressed-${codec}`,
      });
      assert.equal(op.error, null, `${codec}: ${op.error?.message}`);
      assert.equal(img?.diskFormat, "qcow2");
      assert.equal(img?.checksumSha512, q.sha512, `${codec}: the stored bytes are the decompressed image`);
      assert.equal(img?.size, q.size);
      assert.equal(img?.properties.vitrine_source_compression, codec);
    }
  });

  it("decompresses a direct upload, and converts it before the image is active", async () => {
    const declared: DeclaredFormats = { field: "disk_format", accepted: { qcow2: ["qcow2"], raw: ["raw"] } };
    await env.core.conversion.setSettings(ADMIN, "up", { target: "raw", keep: [] });
    const uploader = member("alice", "up", "editor");
    const q = INPUTS.qcow2!();
    const gz = path.join(work, "upload.gz");
    fs.writeFileSync(gz, execFileSync("gzip", ["-c", q.path], { maxBuffer: 64 << 20 }));
    const img = await env.core.images.register(
      uploader,
      registration("up", { name: "up", uniqueName: false }),
    );
    const done = await env.core.imageData.upload(uploader, img.uuid, {
      source: fs.createReadStream(gz),
      signal: new AbortController().signal,
      mode: "file",
      formatsByDeclared: declared,
      announcedBytes: fs.statSync(gz).size,
    });
    assert.equal(done.status, "active");
    assert.equal(done.diskFormat, "raw");
    assert.equal(done.properties.vitrine_original_disk_format, "qcow2");
    assert.equal(done.properties.vitrine_original_checksum, q.md5);
    assert.equal(done.properties.vitrine_source_compression, "gzip");
    assertSameDisk(q.path, "qcow2", await blobFile(done, "upload.out"), "raw");
  });

  it("refuses a decompression bomb early, and a hostile image before qemu-img sees it", async () => {
    // 256 MiB of zeros is a few dozen KiB of xz: far past the ratio bound once 64 MiB came out.
    const bomb = path.join(work, "bomb.xz");
    execFileSync("bash", ["-c", `head -c 256M /dev/zero | xz -1 -T1 > ${bomb}`]);
    const started = Date.now();
    const { op } = await create("cv", files.serve("bomb", bomb), { name: "bomb" });
    assert.equal(op.error?.reason, "DECOMPRESSION_BOMB", op.error?.message);
    assert.match(op.error!.message, /expands more than 1024 times/);
    assert.ok(Date.now() - started < 20_000);

    // A qcow2 naming a backing file: refused by the inspector, so never converted.
    await env.core.conversion.setSettings(ADMIN, "hostile", { target: "raw", keep: [] });
    const base = path.join(work, "base.qcow2");
    const overlay = path.join(work, "overlay.qcow2");
    qemuImg("create", "-f", "qcow2", base, "16M");
    qemuImg("create", "-f", "qcow2", "-b", base, "-F", "qcow2", overlay);
    const gz = path.join(work, "overlay.gz");
    fs.writeFileSync(gz, execFileSync("gzip", ["-c", overlay]));
    for (const [name, file] of [
      ["overlay", overlay],
      ["overlay-gz", gz],
    ] as const) {
      const { op: refused } = await create("hostile", files.serve(name, file), { name });
      assert.equal(refused.error?.reason, "IMAGE_REFUSED", refused.error?.message);
      assert.match(refused.error!.message, /backing/);
    }
    // A truncated xz stream is an error, not a short image.
    const truncated = path.join(work, "truncated.xz");
    const xz = execFileSync("xz", ["-c", "-T1", INPUTS.qcow2!().path], { maxBuffer: 64 << 20 });
    fs.writeFileSync(truncated, xz.subarray(0, Math.floor(xz.length / 2)));
    const { op: cut } = await create("cv", files.serve("truncated", truncated), { name: "truncated" });
    assert.equal(cut.error?.reason, "DECOMPRESSION_FAILED", cut.error?.message);
    assert.deepEqual(fs.readdirSync(path.join(work, "scratch")), [], "no scratch space left behind");
  });

  it("exports an image to every other format as a new image, and refuses what cannot be exported", async () => {
    const q = INPUTS.qcow2!();
    const { image: source } = await create("ex", files.serve("ex-src", q.path), { name: "source" });
    assert.ok(source);
    const owner = member("alice", "ex", "editor");
    for (const format of TARGETS.filter((t) => t !== "qcow2")) {
      const op = await settled(
        env.core,
        owner,
        await env.core.conversion.export(
          owner,
          { kind: "compute", id: source.id },
          {
            format,
            folderId: null,
            name: `source-${format}`,
            description: "",
            operationDescription: "Export image",
          },
        ),
        60_000,
      );
      assert.equal(op.error, null, op.error?.message);
      const copy = await env.core.images.get(owner, { kind: "compute", id: op.resourceId });
      assert.equal(copy.diskFormat, format);
      assert.equal(copy.properties.vitrine_exported_from, source.id);
      assert.equal(copy.properties.vitrine_original_checksum, q.md5);
      assertSameDisk(q.path, "qcow2", await blobFile(copy, `export.${format}`), format);
    }
    const ref = { kind: "compute" as const, id: source.id };
    const exp = (format: string) =>
      env.core.conversion.export(owner, ref, {
        format,
        folderId: null,
        name: "",
        description: "",
        operationDescription: "Export image",
      });
    await assert.rejects(exp("qcow2"), /already qcow2/);
    await assert.rejects(exp("iso"), /format/);
    await assert.rejects(
      env.core.conversion.export(member("eve", "other", "editor"), ref, {
        format: "raw",
        folderId: "other",
        name: "",
        description: "",
        operationDescription: "Export image",
      }),
      rejectsWith("IMAGE_NOT_FOUND"),
    );
  });
});

describe("a conversion that fails", () => {
  it("ends the create in a clear error, keeps no bytes and no scratch", async () => {
    // 8 MiB of address space: qemu-img cannot even load its libraries (prlimit is under test too).
    const env = await startInProcess({
      VITRINE_CONVERT_TO: "raw",
      VITRINE_CONVERSION_MEMORY: String(8 * 1024 * 1024),
      VITRINE_CONVERSION_SCRATCH_DIR: path.join(work, "failing-scratch"),
    });
    const files = await startFileServer();
    try {
      const uri = files.serve("fails.qcow2", INPUTS.qcow2!().path);
      const op = await settled(
        env.core,
        alice,
        await env.core.images.create(alice, creation(uri, { folderId: "cv" })),
        60_000,
      );
      assert.equal(op.error?.reason, "CONVERSION_FAILED", op.error?.message);
      assert.match(op.error!.message, /^image data: converting qcow2 to raw failed: /);
      assert.doesNotMatch(op.error!.message, /\/tmp|scratch/, "no server path in the message");
      // The image failed (Compute's ERROR), holding no data: never half-stored.
      const img = await env.core.images.get(alice, { kind: "compute", id: op.resourceId });
      assert.equal(img.status, "killed");
      assert.equal(img.blobKey, null);
      assert.match(op.error!.message, /error while loading shared libraries/, "qemu-img's own words");
      // What arrived was committed before the conversion; the failed operation's clean-up removes it.
      const blobDir = path.join(env.dataDir, "blobs");
      const committed = () =>
        fs
          .readdirSync(blobDir, { recursive: true, withFileTypes: true })
          .filter((e) => e.isFile() && !e.parentPath.includes(".pending") && e.name !== ".store-id");
      for (let i = 0; i < 100 && committed().length > 0; i++) await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(committed(), [], "neither what arrived nor a partial result is kept");
      assert.deepEqual(fs.readdirSync(path.join(work, "failing-scratch")), []);
    } finally {
      await files.close();
      await env.close();
    }
  });
});
