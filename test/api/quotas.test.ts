import assert from "node:assert/strict";
import fs from "node:fs";
import { after, before, describe, it } from "node:test";
import { type FileServer, startFileServer } from "../helpers/file-server.js";
import { image as fixture } from "../helpers/fixtures.js";
import { type InProcessHttp, startInProcessHttp } from "../helpers/in-process.js";

/**
 * Quotas through each dialect's HTTP edge, in process: the admin API sets them, members read
 * theirs, and a refusal comes in each dialect's words — Glance's 413 and usage report, the
 * Yandex RESOURCE_EXHAUSTED with a google.rpc.QuotaFailure naming the quota, on the request and
 * on an operation that ran out.
 */
const MIB = 1024 * 1024;

describe("quotas over HTTP", () => {
  let env: InProcessHttp;
  let files: FileServer;
  let admin: string;
  let alice: string;
  before(async () => {
    env = await startInProcessHttp();
    files = await startFileServer();
    admin = await env.adminToken();
    alice = await env.token("alice", "team-a");
  });
  after(async () => {
    await env.close();
    await files.close();
  });

  it("the admin API: set and remove limits, defaults for everyone, the overview; members read their own", async () => {
    const set = await env.call(admin, "PATCH", "/vitrine/v1/quotas/team-a", {
      limits: { image_size_total: String(10 * MIB), image_count_total: 5 },
    });
    assert.equal(set.statusCode, 200, set.body);
    assert.deepEqual(set.json().quotas.image_size_total, { limit: String(10 * MIB), usage: "0" });
    assert.deepEqual(set.json().quotas.image_stage_total, { usage: "0" }, "no limit: usage only");
    assert.equal(set.json().origin, "catalog");

    const defaults = await env.call(admin, "PATCH", "/vitrine/v1/quotaDefaults", {
      limits: { image_count_uploading: 4 },
    });
    assert.deepEqual(defaults.json(), { origin: "catalog", defaults: { image_count_uploading: "4" } });
    const own = await env.call(alice, "GET", "/vitrine/v1/quotas/team-a");
    assert.equal(own.statusCode, 200);
    assert.equal(
      own.json().quotas.image_count_uploading.limit,
      "4",
      "the default holds where the project has none",
    );

    const overview = await env.call(admin, "GET", "/vitrine/v1/quotas");
    assert.equal(overview.statusCode, 200, overview.body);
    assert.ok(overview.json().projects.some((p: { projectId: string }) => p.projectId === "team-a"));

    // Members may not set them, nor read another project's; bad input is named.
    const refused = await env.call(alice, "PATCH", "/vitrine/v1/quotas/team-a", {
      limits: { image_count_total: 99 },
    });
    assert.equal(refused.statusCode, 403);
    assert.equal(refused.json().code, 7);
    assert.equal((await env.call(alice, "GET", "/vitrine/v1/quotas/team-b")).statusCode, 403);
    const unknown = await env.call(admin, "PATCH", "/vitrine/v1/quotas/team-a", { limits: { images: 1 } });
    assert.equal(unknown.statusCode, 400);
    assert.match(unknown.json().message, /Unknown quota images: one of image_count_total/);
    const negative = await env.call(admin, "PATCH", "/vitrine/v1/quotas/team-a", {
      limits: { image_count_total: "-1" },
    });
    assert.equal(negative.statusCode, 400);
    assert.equal(negative.json().details[0].fieldViolations[0].field, "limits.image_count_total");
    const removed = await env.call(admin, "PATCH", "/vitrine/v1/quotaDefaults", {
      limits: { image_count_uploading: null },
    });
    assert.deepEqual(removed.json().defaults, {});
  });

  it("OpenStack: /v2/info/usage in Glance's shape (MiB); an upload over the limit is a 413 and the image stays queued", async () => {
    const empty = await env.call(await env.token("bob", "team-free"), "GET", "/v2/info/usage");
    assert.deepEqual(empty.json(), { usage: {} }, "no limits: Glance's answer without unified limits");

    await env.call(admin, "PATCH", "/vitrine/v1/quotas/team-a", {
      limits: { image_size_total: String(6 * MIB) },
    });
    const four = fixture("raw", 4);
    const ids: string[] = [];
    for (const name of ["first", "second"]) {
      const created = await env.call(alice, "POST", "/v2/images", {
        name,
        disk_format: "raw",
        container_format: "bare",
      });
      ids.push(created.json().id);
    }
    const put = (id: string) =>
      env.call(alice, "PUT", `/v2/images/${id}/file`, fs.readFileSync(four.path), {
        "content-type": "application/octet-stream",
      });
    assert.equal((await put(ids[0]!)).statusCode, 204);
    const over = await put(ids[1]!);
    assert.equal(over.statusCode, 413, over.body);
    assert.equal(over.json().code, "413 Request Entity Too Large");
    assert.equal(over.json().title, "Request Entity Too Large");
    assert.match(
      over.json().message,
      /project team-a is over its limit for image_size_total: the limit is 6 MiB/,
    );
    assert.equal((await env.call(alice, "GET", `/v2/images/${ids[1]}`)).json().status, "queued");

    // Glance's x-openstack-image-size is what is held: announcing more than is left is refused
    // before the body is read, whatever the body's own length.
    const announced = await env.call(alice, "PUT", `/v2/images/${ids[1]}/file`, Buffer.alloc(1024), {
      "content-type": "application/octet-stream",
      "x-openstack-image-size": String(3 * MIB),
    });
    assert.equal(announced.statusCode, 413, announced.body);
    assert.match(announced.json().message, /needs 3 MiB more/);

    const usage = (await env.call(alice, "GET", "/v2/info/usage")).json().usage;
    assert.deepEqual(usage.image_size_total, { limit: 6, usage: 4 });
    assert.deepEqual(usage.image_count_total, { limit: 5, usage: 2 });
    assert.equal(usage.image_stage_total, undefined, "only limited resources are reported");
  });

  it("Compute: a create over a count is RESOURCE_EXHAUSTED with a QuotaFailure; an import that runs out fails its operation the same way", async () => {
    const qcow2 = fixture("qcow2", 8);
    await env.call(admin, "PATCH", "/vitrine/v1/quotas/team-c", {
      limits: { image_count_total: 2, image_size_total: String(Math.floor(1.5 * qcow2.size)) },
    });
    const carol = await env.token("carol", "team-c");
    const create = (name: string) =>
      env.call(carol, "POST", "/compute/v1/images", {
        folderId: "team-c",
        name,
        uri: files.serve(`${name}.qcow2`, qcow2.path),
      });
    const first = await create("first");
    assert.equal(first.statusCode, 200, first.body);
    const second = await create("second");
    assert.equal(second.statusCode, 200, second.body);

    // The second ran out of bytes: its operation says which quota.
    let op = second.json();
    for (let i = 0; i < 200 && !op.done; i++) {
      await new Promise((r) => setTimeout(r, 25));
      const polled = await env.call(carol, "GET", `/operations/${op.id}`);
      assert.equal(polled.statusCode, 200, polled.body);
      op = polled.json();
    }
    assert.equal(op.error?.code, 8, JSON.stringify(op));
    const failure = op.error.details.find((d: { "@type": string }) =>
      d["@type"].endsWith("google.rpc.QuotaFailure"),
    );
    assert.deepEqual(failure.violations[0].subject, "image_size_total:team-c");

    // The one that ran out left nothing: one image counts; at a count of 1 the next is refused.
    await env.call(admin, "PATCH", "/vitrine/v1/quotas/team-c", { limits: { image_count_total: 1 } });
    const third = await create("third");
    assert.equal(third.statusCode, 429, third.body);
    assert.equal(third.json().code, 8);
    const quota = third
      .json()
      .details.find((d: { "@type": string }) => d["@type"] === "type.googleapis.com/google.rpc.QuotaFailure");
    assert.equal(quota.violations[0].subject, "image_count_total:team-c");
    assert.match(quota.violations[0].description, /limit is 1, 1 is in use/);

    // BareMetal speaks the same: the same folder's count is used up.
    const bareMetal = await env.call(carol, "POST", "/baremetal/v1alpha/images", {
      folderId: "team-c",
      name: "installer",
      uri: files.serve("installer.iso", qcow2.path),
    });
    assert.equal(bareMetal.statusCode, 429, bareMetal.body);
    assert.equal(bareMetal.json().code, 8);
    assert.ok(
      bareMetal
        .json()
        .details.some(
          (d: { "@type": string }) => d["@type"] === "type.googleapis.com/google.rpc.QuotaFailure",
        ),
    );
  });
});
