import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import amqp from "amqplib";
import { type InProcessHttp, startInProcessHttp } from "../helpers/in-process.js";
import { image } from "../helpers/fixtures.js";
import { freePort } from "../helpers/net.js";
import { type RabbitMq, startRabbitMq } from "../helpers/rabbitmq.js";

const LISTENER = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  "../helpers/oslo-notification-listener.py",
);

interface Notification {
  ctxt: Record<string, unknown>;
  publisher_id: string;
  event_type: string;
  payload: any;
  metadata: { message_id: string; timestamp: string };
}

/** The oslo.messaging consumer (Debian's python3 with python3-oslo.messaging), its notifications as they arrive. */
function startOsloListener(transportUrl: string): {
  received: Notification[];
  ready: Promise<void>;
  stop(): void;
} {
  const child: ChildProcess = spawn("/usr/bin/python3", [LISTENER, transportUrl], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const received: Notification[] = [];
  let stderr = "";
  child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
  let markReady: () => void;
  const ready = new Promise<void>((resolve, reject) => {
    markReady = resolve;
    child.once("exit", (code) => reject(new Error(`oslo listener exited ${code}: ${stderr.slice(-2000)}`)));
  });
  readline.createInterface({ input: child.stdout! }).on("line", (line) => {
    const msg = JSON.parse(line);
    if (msg.ready) markReady();
    else received.push(msg as Notification);
  });
  return { received, ready, stop: () => child.kill("SIGKILL") };
}

async function until<T>(read: () => T, ok: (v: T) => boolean, what: string, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: ${JSON.stringify(value).slice(0, 3000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Glance's notifications on a real RabbitMQ, read by a consumer written against oslo.messaging:
 * the broker is down while the first changes are made (their events wait in the outbox), then
 * comes up on the announced port; every notification arrives, in order, with Glance's fields.
 */
describe("Glance notifications over AMQP, read with oslo.messaging", () => {
  let env: InProcessHttp;
  let broker: RabbitMq;
  let port: number;
  let listener: ReturnType<typeof startOsloListener> | null = null;

  before(async () => {
    port = await freePort();
    env = await startInProcessHttp({
      VITRINE_NOTIFICATIONS_URL: `rabbit://guest:guest@127.0.0.1:${port}/`,
      VITRINE_NOTIFICATIONS_PUBLISHER_ID: "image.vitrine-test",
    });
  });
  after(async () => {
    listener?.stop();
    await env?.close();
    await broker?.stop();
  });

  test("events wait while the broker is down, then arrive with Glance's types, payloads and context", async () => {
    const owner = await env.token("notify-owner", "notify-project");
    const created = await env.call(owner, "POST", "/v2/images", {
      name: "notified",
      disk_format: "qcow2",
      container_format: "bare",
      os_distro: "debian",
    });
    assert.equal(created.statusCode, 201, created.body);
    const uuid = created.json().id as string;
    const createRequest = String(created.headers["x-openstack-request-id"]);
    const data = fs.readFileSync(image("qcow2", 1).path);
    const put = await env.app.inject({
      method: "PUT",
      url: `/v2/images/${uuid}/file`,
      headers: { authorization: `Bearer ${owner}`, "content-type": "application/octet-stream" },
      payload: data,
    });
    assert.equal(put.statusCode, 204, put.body);
    // Nothing reached a broker: the events wait, unpublished.
    await new Promise((r) => setTimeout(r, 500));
    assert.equal((await env.catalog.outbox.backlog()) >= 4, true);

    broker = await startRabbitMq(port);
    listener = startOsloListener(broker.transportUrl);
    await listener.ready;
    const types = (n: Notification[]) =>
      n.filter((x) => x.payload.id === uuid || x.payload.image_id === uuid).map((x) => x.event_type);
    await until(
      () => types(listener!.received),
      (t) => t.includes("image.activate"),
      "notifications after the broker came up",
    );

    // Now with the broker up: an update, a member, a download, a deactivation, a delete.
    const patch = await env.call(owner, "PATCH", `/v2/images/${uuid}`, [
      { op: "replace", path: "/name", value: "renamed" },
    ]);
    assert.equal(patch.statusCode, 200, patch.body);
    assert.equal(
      (
        await env.call(owner, "PATCH", `/v2/images/${uuid}`, [
          { op: "replace", path: "/visibility", value: "shared" },
        ])
      ).statusCode,
      200,
    );
    assert.equal(
      (await env.call(owner, "POST", `/v2/images/${uuid}/members`, { member: "other-project" })).statusCode,
      200,
    );
    const download = await env.call(owner, "GET", `/v2/images/${uuid}/file`);
    assert.equal(download.statusCode, 200);
    assert.equal((await env.call(owner, "POST", `/v2/images/${uuid}/actions/deactivate`)).statusCode, 204);
    assert.equal((await env.call(owner, "DELETE", `/v2/images/${uuid}`)).statusCode, 204);
    const all = await until(
      () => listener!.received.filter((x) => x.payload.id === uuid || x.payload.image_id === uuid),
      (n) => n.some((x) => x.event_type === "image.delete") && n.some((x) => x.event_type === "image.send"),
      "the rest of the notifications",
    );
    const seen = all.map((x) => x.event_type);
    const expected = [
      "image.create",
      "image.prepare",
      "image.upload",
      "image.activate",
      "image.update",
      "image.update",
      "image.member.create",
      "image.send",
      "image.deactivate",
      "image.delete",
    ];
    // In order (a redelivery may repeat one: at least once).
    const firsts = seen.filter((t, i) => seen.indexOf(t) === i || t === "image.update");
    assert.deepEqual(
      firsts.filter((t) => expected.includes(t)),
      expected,
      seen.join(", "),
    );

    const byType = (t: string) => all.find((x) => x.event_type === t)!;
    const create = byType("image.create");
    assert.equal(create.publisher_id, "image.vitrine-test");
    assert.equal(create.payload.status, "queued");
    assert.equal(create.payload.owner, "notify-project");
    assert.equal(create.payload.name, "notified");
    assert.equal(create.payload.properties.os_distro, "debian");
    assert.equal(create.payload.is_public, false);
    assert.equal(create.ctxt.request_id, createRequest);
    assert.equal(create.ctxt.project_id, "notify-project");
    assert.match(create.metadata.timestamp, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/);
    const activate = byType("image.activate");
    assert.equal(activate.payload.status, "active");
    assert.equal(activate.payload.size, data.length);
    assert.equal(activate.payload.checksum.length, 32);
    assert.equal(activate.payload.os_hash_algo, "sha512");
    assert.equal(byType("image.member.create").payload.member_id, "other-project");
    assert.equal(byType("image.member.create").payload.status, "pending");
    const send = byType("image.send");
    assert.equal(send.payload.bytes_sent, data.length);
    assert.equal(send.payload.owner_id, "notify-project");
    assert.equal(send.payload.receiver_tenant_id, "notify-project");
    assert.equal(byType("image.deactivate").payload.status, "deactivated");
    const deleted = byType("image.delete");
    assert.equal(deleted.payload.deleted, true);
    assert.match(deleted.payload.deleted_at, /^\d{4}-\d\d-\d\dT/);
    // Every notification its own message id.
    const ids = all.map((x) => x.metadata.message_id);
    assert.equal(new Set(ids).size, new Set(all.map((x) => `${x.event_type}/${x.metadata.message_id}`)).size);
    assert.equal(await env.catalog.outbox.backlog(), 0);
  });

  test("the envelope, as a plain AMQP client reads it: oslo.messaging v2", async () => {
    const conn = await amqp.connect(broker.url);
    const ch = await conn.createChannel();
    const q = await ch.assertQueue("", { exclusive: true });
    await ch.bindQueue(q.queue, "glance", "notifications.info");
    const got: amqp.ConsumeMessage[] = [];
    await ch.consume(q.queue, (m) => m && got.push(m), { noAck: true });
    const owner = await env.token("envelope-owner", "envelope-project");
    const created = await env.call(owner, "POST", "/v2/images", {
      name: "enveloped",
      disk_format: "raw",
      container_format: "bare",
    });
    const uuid = created.json().id;
    const msg = await until(
      () => got.find((m) => JSON.parse(JSON.parse(m.content.toString())["oslo.message"]).payload.id === uuid),
      (m) => m !== undefined,
      "the envelope",
    );
    assert.equal(msg!.properties.contentType, "application/json");
    const outer = JSON.parse(msg!.content.toString());
    assert.deepEqual(Object.keys(outer).sort(), ["oslo.message", "oslo.version"]);
    assert.equal(outer["oslo.version"], "2.0");
    const inner = JSON.parse(outer["oslo.message"]);
    assert.equal(inner.event_type, "image.create");
    assert.equal(inner.priority, "INFO");
    assert.match(inner.message_id, /^[0-9a-f-]{36}$/);
    assert.equal(inner._context_project_id, "envelope-project");
    assert.equal(JSON.stringify(inner).includes(owner), false, "no token in a notification");
    await conn.close();
  });
});
