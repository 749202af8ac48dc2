import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { type InProcessHttp, osImage, startInProcessHttp } from "../helpers/in-process.js";
import { Target, until } from "../helpers/webhook-target.js";
import { image } from "../helpers/fixtures.js";

async function upload(env: InProcessHttp, token: string, id: string, bytes: Buffer) {
  const res = await env.app.inject({
    method: "PUT",
    url: `/v2/images/${id}/file`,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/octet-stream" },
    payload: bytes,
  });
  assert.equal(res.statusCode, 204, res.body);
}

/** The internal id of an OpenStack image (the outbox orders events by it). */
async function internalId(env: InProcessHttp, uuid: string): Promise<string> {
  return (await env.catalog.images.findByUuid(uuid))!.id;
}

describe("events: the outbox, CloudEvents webhooks and the audit trail", { concurrency: true }, () => {
  let env: InProcessHttp;
  let admin: string;
  const qcow2 = () => fs.readFileSync(image("qcow2", 1).path);

  before(async () => {
    env = await startInProcessHttp({
      VITRINE_WEBHOOK_RETRY_BASE_MS: "250",
      VITRINE_WEBHOOK_RETRY_MAX_MS: "4000",
      VITRINE_WEBHOOK_MAX_ATTEMPTS: "40",
    });
    admin = await env.adminToken();
  });
  after(() => env.close());

  test("every change of an image writes one event, in order, with its version and who made it", async () => {
    const owner = await env.token("outbox-owner", "outbox-project");
    const uuid = await osImage(env, owner, "outbox", "qcow2");
    await upload(env, owner, uuid, qcow2());
    const patch = await env.call(owner, "PATCH", `/v2/images/${uuid}`, [
      { op: "add", path: "/os_distro", value: "debian" },
    ]);
    assert.equal(patch.statusCode, 200, patch.body);
    const id = await internalId(env, uuid);
    assert.equal((await env.call(owner, "DELETE", `/v2/images/${uuid}`)).statusCode, 204);
    // The delete operation removes the row after: the image was announced deleted, then purged.
    const events = await until(
      () => env.catalog.events.ofImage(id, 100),
      (e) => e.at(-1)?.type === "image.purge",
      "purge",
    );
    const ofImage = events.filter((e) => e.imageVersion !== null);
    assert.deepEqual(
      ofImage.map((e) => e.type),
      ["image.create", "image.prepare", "image.upload", "image.update", "image.delete", "image.purge"],
    );
    assert.deepEqual(
      ofImage.map((e) => e.imageVersion),
      ofImage.map((_, i) => i + 1),
    );
    for (const e of ofImage) {
      assert.equal(e.actor.subject !== null, true, JSON.stringify(e.actor));
      assert.equal(e.actor.project, "outbox-project");
      assert.match(e.actor.requestId ?? "", /^req-/, `${e.type} ${JSON.stringify(e.actor)}`);
      assert.equal(e.folderId, "outbox-project");
    }
    const upload_ = ofImage[2]!.data as { image: { checksumSha512: string; size: number; status: string } };
    assert.equal(upload_.image.status, "active");
    assert.equal(upload_.image.checksumSha512.length, 128);
    // Nothing but what the owner may see: no blob key, no source URLs.
    assert.equal(JSON.stringify(events).includes("blobKey"), false);
  });

  test("a change refused or rolled back writes no event", async () => {
    const owner = await env.token("rollback-owner", "rollback-project");
    const uuid = await osImage(env, owner, "rollback", "qcow2");
    const id = await internalId(env, uuid);
    const before = (await env.catalog.events.ofImage(id, 100)).length;
    // Refused: a protected property an owner may not set, a bad patch, a stranger's delete.
    const bad = await env.call(owner, "PATCH", `/v2/images/${uuid}`, [
      { op: "replace", path: "/status", value: "active" },
    ]);
    assert.equal(bad.statusCode, 403, bad.body);
    const stranger = await env.token("rollback-stranger", "other-project");
    assert.equal((await env.call(stranger, "DELETE", `/v2/images/${uuid}`)).statusCode, 404);
    // Rolled back: data that is not the declared format fails the upload in its transaction.
    const res = await env.app.inject({
      method: "PUT",
      url: `/v2/images/${uuid}/file`,
      headers: { authorization: `Bearer ${owner}`, "content-type": "application/octet-stream" },
      payload: Buffer.alloc(4096, 7),
    });
    assert.equal(res.statusCode, 400, res.body);
    const events = await env.catalog.events.ofImage(id, 100);
    const stored = (await env.catalog.images.findById(id))!;
    const versions = events.filter((e) => e.imageVersion !== null).map((e) => e.imageVersion);
    assert.deepEqual(
      versions,
      Array.from({ length: stored.version }, (_, i) => i + 1),
    );
    assert.equal(events.length >= before, true);
  });

  test("webhooks: signed CloudEvents of the folder's changes, in order, filtered by type", async (t) => {
    const target = await new Target().listen();
    // Closed even when an assertion fails: a listening target would keep the file running.
    t.after(() => target.close());
    const folder = "hooks-project";
    const owner = await env.token("hooks-admin", folder, "admin");
    const created = await env.call(owner, "POST", "/vitrine/v1/webhooks", {
      folderId: folder,
      url: target.url,
      types: ["image.*"],
      description: "test",
    });
    assert.equal(created.statusCode, 200, created.body);
    const sub = created.json();
    assert.equal(typeof sub.secret, "string");
    // The secret is shown once.
    assert.equal((await env.call(owner, "GET", `/vitrine/v1/webhooks/${sub.id}`)).json().secret, undefined);
    const uuid = await osImage(env, owner, "hooked", "qcow2");
    await upload(env, owner, uuid, qcow2());
    // Not an image event: filtered out by the subscription's types.
    await env.call(owner, "PUT", `/vitrine/v1/folders/${folder}/retentionRules/fam`, {
      keep: 3,
      action: "DEPRECATE",
      after: "86400s",
    });
    const events = await until(
      () => target.events(),
      (e) => e.length >= 3,
      "deliveries",
    );
    assert.deepEqual(
      events.map((e) => e.type),
      ["dev.vitrine.image.create", "dev.vitrine.image.prepare", "dev.vitrine.image.upload"],
    );
    assert.equal(events[0]!.source, `/vitrine/folders/${folder}`);
    assert.equal(events[2]!.data.image.uuid, uuid);
    assert.equal(events[2]!.data.actor.project, folder);
    for (const r of target.received) {
      const sig = String(r.headers["vitrine-signature"]);
      const [, t, mac] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(sig)!;
      assert.equal(mac, createHmac("sha256", sub.secret).update(`${t}.${r.body}`).digest("hex"));
      assert.match(String(r.headers["content-type"]), /^application\/cloudevents\+json/);
    }
    const deliveries = await env.call(
      owner,
      "GET",
      `/vitrine/v1/webhooks/${sub.id}/deliveries?status=delivered`,
    );
    assert.equal(deliveries.json().deliveries.length, 3, deliveries.body);
    await target.close();
  });

  test("a webhook to a forbidden address is refused; one that resolves there dies undelivered", async () => {
    const folder = "ssrf-project";
    const owner = await env.token("ssrf-admin", folder, "admin");
    for (const url of [
      "http://169.254.169.254/latest/meta-data",
      "http://10.1.2.3/hook",
      "ftp://example.com/x",
    ]) {
      const res = await env.call(owner, "POST", "/vitrine/v1/webhooks", { folderId: folder, url });
      assert.equal(res.statusCode, 400, res.body);
      assert.match(res.json().message, /url/);
    }
    // A name, not an address: allowed at creation, refused when it resolves to loopback.
    const sub = (
      await env.call(owner, "POST", "/vitrine/v1/webhooks", {
        folderId: folder,
        url: "http://localhost:9/hook",
      })
    ).json();
    await osImage(env, owner, "ssrf", "qcow2");
    const dead = await until(
      async () =>
        (await env.call(owner, "GET", `/vitrine/v1/webhooks/${sub.id}/deliveries?status=dead`)).json(),
      (p) => p.deliveries.length > 0,
      "dead delivery",
    );
    assert.match(dead.deliveries[0].lastError, /loopback, private or link-local/);
  });

  test("only the folder's admins manage its webhooks", async () => {
    const folder = "guarded-project";
    const editor = await env.token("guarded-editor", folder, "editor");
    const res = await env.call(editor, "POST", "/vitrine/v1/webhooks", {
      folderId: folder,
      url: "http://127.0.0.1:9/x",
    });
    assert.equal(res.statusCode, 403, res.body);
    assert.equal((await env.call(editor, "GET", `/vitrine/v1/webhooks?folderId=${folder}`)).statusCode, 403);
    const other = await env.token("guarded-other-admin", "elsewhere", "admin");
    assert.equal((await env.call(other, "GET", `/vitrine/v1/webhooks?folderId=${folder}`)).statusCode, 403);
    assert.equal((await env.call(admin, "GET", `/vitrine/v1/webhooks?folderId=${folder}`)).statusCode, 200);
  });

  test("audit: mutations and refusals recorded with who, what and why; queryable by the admin only", async () => {
    const folder = "audit-project";
    const owner = await env.token("audit-owner", folder);
    const since = new Date(Date.now() - 1000).toISOString();
    const uuid = await osImage(env, owner, "audited", "qcow2");
    const stranger = await env.token("audit-stranger", "audit-elsewhere");
    assert.equal(
      (await env.call(stranger, "PATCH", `/v2/images/${uuid}`, [{ op: "add", path: "/x", value: "y" }]))
        .statusCode,
      404,
    );
    const forbidden = await env.call(owner, "PATCH", `/v2/images/${uuid}`, [
      { op: "replace", path: "/status", value: "active" },
    ]);
    assert.equal(forbidden.statusCode, 403);
    const anonymous = await env.app.inject({ method: "DELETE", url: `/v2/images/${uuid}` });
    assert.equal(anonymous.statusCode, 401);
    await env.audit.flush();
    const q = `/vitrine/v1/audit?since=${encodeURIComponent(since)}&pageSize=1000`;
    assert.equal((await env.call(owner, "GET", q)).statusCode, 403);
    const records = (await env.call(admin, "GET", q)).json().records as any[];
    const create = records.find(
      (r) => r.action === "POST /v2/images" && r.subject !== undefined && r.project === folder,
    );
    assert.ok(create, JSON.stringify(records));
    assert.equal(create.decision, "allowed");
    assert.equal(create.dialect, "openstack");
    assert.match(create.requestId, /^req-/);
    assert.equal(create.source, "127.0.0.1");
    const denied = records.filter((r) => r.decision === "denied" && r.resource === uuid);
    assert.deepEqual(denied.map((r) => r.status).sort(), [401, 403]);
    assert.match(denied.find((r) => r.status === 403).reason, /READ_ONLY_ATTRIBUTE: .*read-only/);
    const notFound = records.find((r) => r.decision === "failed" && r.status === 404 && r.resource === uuid);
    assert.ok(notFound);
    // Filters, and no token anywhere in the stream.
    const deniedOnly = (await env.call(admin, "GET", `${q}&decision=denied`)).json().records as any[];
    assert.equal(
      deniedOnly.every((r) => r.decision === "denied"),
      true,
    );
    const log = fs.readFileSync(path.join(env.dataDir, "audit.log"), "utf8");
    for (const token of [owner, stranger, admin]) assert.equal(log.includes(token), false);
    assert.match(log, /"log":"audit"/);
    const bad = await env.call(admin, "GET", "/vitrine/v1/audit?since=yesterday");
    assert.equal(bad.statusCode, 400, bad.body);
  });
});

describe("events: the dead-letter view", () => {
  let env: InProcessHttp;
  before(async () => {
    env = await startInProcessHttp({
      VITRINE_WEBHOOK_RETRY_BASE_MS: "50",
      VITRINE_WEBHOOK_MAX_ATTEMPTS: "2",
    });
  });
  after(() => env.close());

  test("a delivery failing every attempt is dead, shown, and sent again on request", async (t) => {
    const target = await new Target().listen();
    // Closed even when an assertion fails: a listening target would keep the file running.
    t.after(() => target.close());
    target.status = 500;
    const folder = "dlq-project";
    const owner = await env.token("dlq-admin", folder, "admin");
    const sub = (
      await env.call(owner, "POST", "/vitrine/v1/webhooks", {
        folderId: folder,
        url: target.url,
        types: ["image.create"],
      })
    ).json();
    await osImage(env, owner, "dead-letter", "qcow2");
    const dead = await until(
      async () =>
        (await env.call(owner, "GET", `/vitrine/v1/webhooks/${sub.id}/deliveries?status=dead`)).json(),
      (p) => p.deliveries.length === 1,
      "dead letter",
    );
    assert.equal(dead.deliveries[0].attempts, 2);
    assert.equal(dead.deliveries[0].lastError, "HTTP 500");
    assert.equal(dead.deliveries[0].eventType, "dev.vitrine.image.create");
    assert.equal(target.received.length, 2);
    target.status = 204;
    const again = await env.call(
      owner,
      "POST",
      `/vitrine/v1/webhooks/${sub.id}/deliveries/${dead.deliveries[0].id}/redeliver`,
    );
    assert.equal(again.statusCode, 200, again.body);
    await until(
      () => target.received.length,
      (n) => n === 3,
      "redelivery",
    );
    const delivered = await until(
      async () =>
        (await env.call(owner, "GET", `/vitrine/v1/webhooks/${sub.id}/deliveries?status=delivered`)).json(),
      (p) => p.deliveries.length === 1,
      "delivered",
    );
    assert.equal(delivered.deliveries[0].id, dead.deliveries[0].id);
    // Same event, same id: a receiver can tell a redelivery.
    const ids = target.events().map((e) => e.id);
    assert.equal(new Set(ids).size, 1);
    assert.equal((await env.call(owner, "DELETE", `/vitrine/v1/webhooks/${sub.id}`)).statusCode, 200);
    assert.equal((await env.call(owner, "GET", `/vitrine/v1/webhooks/${sub.id}`)).statusCode, 404);
    await target.close();
  });
});
