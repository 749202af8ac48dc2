import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import Database from "better-sqlite3";
import { after, before, describe, test } from "node:test";
import { type FileServer, startFileServer } from "../helpers/file-server.js";
import { image } from "../helpers/fixtures.js";
import { createOsImage, osRequest, putData } from "../helpers/openstack.js";
import { type RunningServer, eventually, startServer, tempDir, waitOperation } from "../helpers/server.js";
import { TEST_BACKEND } from "../helpers/test-backend.js";
import amqp from "amqplib";
import { type RabbitMq, startRabbitMq } from "../helpers/rabbitmq.js";

const ROUNDS = Number(process.env.VITRINE_CRASH_ROUNDS ?? 4);
const SEED = Number(process.env.VITRINE_CRASH_SEED ?? 7);

/**
 * SIGKILL while every kind of write is under way — an OpenStack upload and a stage streaming in,
 * a web-download import and a Compute import fetching, a Compute delete running — then restart,
 * several rounds on one data directory. After each restart, once recovery ran: nothing is stuck
 * (no upload, operation or image left mid-way), no pending data and no blob that no image names,
 * and every image with data has exactly the bytes its SHA-512 says. A consumer is attached to the
 * notification broker throughout: at the end every committed change has exactly one event in the
 * outbox (an image's events carry its versions 1..n, no gap, no repeat, none beyond what was
 * stored), each was delivered at least once, and each image's arrived in order.
 */
describe("crash test", { skip: TEST_BACKEND !== "embedded" }, () => {
  let files: FileServer;
  let dataDir: string;
  let server: RunningServer;
  let broker: RabbitMq;
  let consumer: amqp.ChannelModel;
  /** Notifications as they arrived: message id and event type. */
  const arrived: { id: string; type: string }[] = [];
  const env: Record<string, string> = {
    VITRINE_IMPORT_ALLOWED_HOSTS: "127.0.0.1",
    VITRINE_OPERATION_LEASE_SECONDS: "2",
  };
  const fixture = () => image("qcow2", 8);

  before(async () => {
    files = await startFileServer({ chunkBytes: 32 * 1024, intervalMs: 50 });
    files.serve("c.qcow2", fixture().path);
    dataDir = tempDir("crash");
    broker = await startRabbitMq();
    env.VITRINE_NOTIFICATIONS_URL = broker.url;
    consumer = await amqp.connect(broker.url);
    const ch = await consumer.createChannel();
    await ch.assertExchange("glance", "topic", { durable: false, autoDelete: false });
    const q = await ch.assertQueue("", { exclusive: true });
    await ch.bindQueue(q.queue, "glance", "notifications.info");
    await ch.consume(
      q.queue,
      (m) => {
        if (!m) return;
        const inner = JSON.parse(JSON.parse(m.content.toString())["oslo.message"] as string);
        arrived.push({ id: inner.message_id as string, type: inner.event_type as string });
      },
      { noAck: true },
    );
  });
  after(async () => {
    await server?.stop();
    await files?.close();
    await consumer?.close();
    await broker?.stop();
  });

  /** An upload that sends half its bytes, then trickles the rest (the kill lands mid-stream). */
  function slowPut(urlPath: string, data: Buffer): void {
    const req = http.request(`${server.url}${urlPath}`, {
      method: "PUT",
      headers: { "x-auth-token": server.token, "content-type": "application/octet-stream" },
    });
    req.on("error", () => {});
    req.on("response", (res) => res.resume());
    let offset = data.length >> 1;
    req.write(data.subarray(0, offset));
    const timer = setInterval(() => {
      const next = Math.min(data.length, offset + 16 * 1024);
      req.write(data.subarray(offset, next));
      offset = next;
      if (offset >= data.length) {
        clearInterval(timer);
        req.end();
      }
    }, 50);
    req.on("close", () => clearInterval(timer));
  }

  function db(): Database.Database {
    return new Database(path.join(dataDir, "vitrine.sqlite"), { readonly: true });
  }

  function blobPath(key: string): string {
    const digest = createHash("sha256").update(key).digest("hex");
    return path.join(dataDir, "blobs", digest.slice(0, 2), digest.slice(2, 4), digest);
  }

  async function settled(): Promise<void> {
    await eventually(
      async () => {
        const d = db();
        try {
          const busy = d
            .prepare(
              `select (select count(*) from uploads) + (select count(*) from operations where done = 0)
                 + (select count(*) from images where status in ('saving', 'importing', 'deleting', 'updating'))`,
            )
            .pluck()
            .get() as number;
          return busy === 0;
        } finally {
          d.close();
        }
      },
      30_000,
      "uploads, operations and images to settle after the restart",
    );
  }

  function assertConsistent(round: number): void {
    const d = db();
    try {
      const rows = d
        .prepare("select blob_key, checksum_sha512, size from images where blob_key is not null")
        .all() as { blob_key: string; checksum_sha512: string; size: number }[];
      for (const row of rows) {
        const file = blobPath(row.blob_key);
        assert.ok(fs.existsSync(file), `round ${round}: an image's blob is missing`);
        const bytes = fs.readFileSync(file);
        assert.equal(bytes.length, row.size, `round ${round}: size`);
        assert.equal(
          createHash("sha512").update(bytes).digest("hex"),
          row.checksum_sha512,
          `round ${round}: bytes`,
        );
      }
      const named = new Set(rows.map((r) => blobPath(r.blob_key)));
      const stored = fs
        .readdirSync(path.join(dataDir, "blobs"), { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile() && e.name !== ".store-id" && !e.parentPath.endsWith(".pending"))
        .map((e) => path.join(e.parentPath, e.name));
      assert.deepEqual(
        stored.filter((f) => !named.has(f)),
        [],
        `round ${round}: blobs no image names`,
      );
      assert.deepEqual(
        fs.readdirSync(path.join(dataDir, "blobs", ".pending")),
        [],
        `round ${round}: pending data`,
      );
    } finally {
      d.close();
    }
  }

  test(`${ROUNDS} rounds of SIGKILL during upload, stage, imports and delete`, async (t) => {
    let random = SEED;
    const nextDelay = () => {
      random = (random * 1103515245 + 12345) % 2 ** 31;
      return 200 + (random % 1300);
    };
    const data = fs.readFileSync(fixture().path);
    server = await startServer({ dataDir, env });
    for (let round = 1; round <= ROUNDS; round++) {
      // A READY image to delete during the crash, through each API.
      const ready = await server.request("POST", "/compute/v1/images", {
        folderId: "crash",
        name: `ready-${round}`,
        uri: `${files.url}/files/c.qcow2`,
      });
      const readyImage = (await waitOperation(server, ready.body.id)).response;
      const osReady = await createOsImage(server, {
        name: `os-ready-${round}`,
        disk_format: "qcow2",
        container_format: "bare",
      });
      assert.equal((await putData(server, osReady.id, fixture().path)).status, 204);

      // Everything at once, then the kill.
      const upload = await createOsImage(server, {
        name: `up-${round}`,
        disk_format: "qcow2",
        container_format: "bare",
      });
      const stage = await createOsImage(server, {
        name: `st-${round}`,
        disk_format: "qcow2",
        container_format: "bare",
      });
      const web = await createOsImage(server, {
        name: `web-${round}`,
        disk_format: "qcow2",
        container_format: "bare",
      });
      slowPut(`/v2/images/${upload.id}/file`, data);
      slowPut(`/v2/images/${stage.id}/stage`, data);
      await osRequest(server, "POST", `/v2/images/${web.id}/import`, {
        method: { name: "web-download", uri: `${files.url}/slow/c.qcow2` },
      });
      await server.request("POST", "/compute/v1/images", {
        folderId: "crash",
        name: `importing-${round}`,
        uri: `${files.url}/slow/c.qcow2`,
      });
      await server.request("DELETE", `/compute/v1/images/${readyImage.id}`);
      await osRequest(server, "DELETE", `/v2/images/${osReady.id}`);
      await new Promise((r) => setTimeout(r, nextDelay()));
      await server.stop("SIGKILL");

      server = await startServer({ dataDir, env });
      await settled();
      assertConsistent(round);
      // The interrupted uploads take their data again.
      for (const id of [upload.id, stage.id]) {
        const img = await osRequest(server, "GET", `/v2/images/${id}`);
        if (img.body.status === "queued") {
          const res = await putData(server, id, fixture().path, {
            endpoint: id === stage.id ? "stage" : "file",
          });
          assert.equal(res.status, 204, res.text);
        }
      }
    }
    await settled();
    assertConsistent(ROUNDS + 1);
    await assertEventsDelivered(t);
  });

  /** The outbox against the catalog, and what the consumer received against the outbox. */
  async function assertEventsDelivered(t: { diagnostic(message: string): void }): Promise<void> {
    await eventually(
      async () => {
        const d = db();
        try {
          return (
            (d.prepare("select count(*) from events where published_at is null").pluck().get() as number) ===
            0
          );
        } finally {
          d.close();
        }
      },
      30_000,
      "every event published",
    );
    const d = db();
    let events: {
      seq: number;
      id: string;
      type: string;
      image_id: string | null;
      image_version: number | null;
    }[];
    let versions: Map<string, number>;
    try {
      events = d
        .prepare("select seq, id, type, image_id, image_version from events order by seq")
        .all() as typeof events;
      versions = new Map(
        (d.prepare("select id, version from images").all() as { id: string; version: number }[]).map((r) => [
          r.id,
          r.version,
        ]),
      );
    } finally {
      d.close();
    }
    await eventually(
      async () => events.every((e) => arrived.some((a) => a.id === e.id)),
      30_000,
      "every event delivered",
    );
    const firstArrival = new Map<string, number>();
    arrived.forEach((a, i) => firstArrival.has(a.id) || firstArrival.set(a.id, i));
    const byImage = new Map<string, typeof events>();
    for (const e of events) {
      if (e.image_version !== null) byImage.set(e.image_id!, [...(byImage.get(e.image_id!) ?? []), e]);
    }
    for (const [imageId, own] of byImage) {
      // One event per committed change: versions 1..n in the order they were written.
      assert.deepEqual(
        own.map((e) => e.image_version),
        own.map((_, i) => i + 1),
        `image ${imageId}: ${own.map((e) => `${e.type}@${e.image_version}`).join(" ")}`,
      );
      const stored = versions.get(imageId);
      if (stored !== undefined)
        assert.equal(own.length, stored, `image ${imageId}: events beyond its version`);
      else
        assert.match(
          own.at(-1)!.type,
          /^image\.(delete|purge)$/,
          `image ${imageId}: removed without an event`,
        );
      const order = own.map((e) => firstArrival.get(e.id)!);
      assert.deepEqual(
        order,
        [...order].sort((a, b) => a - b),
        `image ${imageId}: delivered out of order`,
      );
    }
    for (const [imageId, version] of versions) {
      assert.equal(byImage.get(imageId)?.length, version, `image ${imageId}: changes without events`);
    }
    const duplicates = arrived.length - new Set(arrived.map((a) => `${a.id}/${a.type}`)).size;
    t.diagnostic(
      `${events.length} events in the outbox (${[...byImage.values()].reduce((n, e) => n + e.length, 0)} of ` +
        `${byImage.size} images, ${versions.size} images left), ${arrived.length} notifications received, ` +
        `${duplicates} redelivered`,
    );
  }
});
