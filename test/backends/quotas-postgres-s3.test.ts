import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import { image as fixture } from "../helpers/fixtures.js";
import { type PgS3Servers, startPgS3Servers } from "../helpers/pg-s3.js";
import { CLI, type RunningServer, startServer, tempDir } from "../helpers/server.js";

/**
 * Quotas are exact across nodes: 64 uploads at once through two nodes on one PostgreSQL catalog
 * and one S3 bucket, under a byte limit that admits only some, never store more than the limit,
 * and leave usage equal to what is stored with nothing held; a node killed mid-stream gives back
 * what it held as soon as its death is known.
 */
describe("quotas across two nodes on PostgreSQL + S3", () => {
  let servers: PgS3Servers;
  let databaseUrl: string;
  let a: RunningServer;
  let b: RunningServer;
  let env: Record<string, string>;
  const nodes: RunningServer[] = [];

  before(async () => {
    servers = await startPgS3Servers();
    const installation = await servers.newInstallation();
    databaseUrl = installation.databaseUrl;
    env = { ...installation.env, VITRINE_TOKEN_CACHE_SECONDS: "1" };
    a = await startServer({ dataDir: tempDir("quota-a"), env });
    b = await startServer({ dataDir: tempDir("quota-b"), env });
    nodes.push(a, b);
  });
  after(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await servers?.stop();
  });

  const cli = (...args: string[]) =>
    execFileSync(process.execPath, [CLI, ...args, "--database", databaseUrl], { encoding: "utf8" }).trim();
  /** A token for a new editor of `project`, scoped to it. */
  const editorOf = (project: string) => {
    const subject = cli("subject", "create", "--name", `editor-${project}`);
    cli("folder", "bind", "--folder", project, "--subject", subject, "--role", "editor");
    return cli("token", "create", "--subject", subject, "--project", project);
  };
  const setLimits = async (project: string, limits: Record<string, string | number>) => {
    const res = await a.request("PATCH", `/vitrine/v1/quotas/${project}`, { limits });
    assert.equal(res.status, 200, JSON.stringify(res.body));
  };
  const usageOf = async (project: string) => {
    const res = await b.request("GET", `/vitrine/v1/quotas/${project}`);
    return res.body.quotas as Record<string, { limit?: string; usage: string }>;
  };
  const reservations = async (): Promise<number> => {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query("select count(*)::int as n from quota_reservations");
      return rows[0].n as number;
    } finally {
      await client.end();
    }
  };
  const register = async (node: RunningServer, token: string, name: string): Promise<string> => {
    const res = await node.request(
      "POST",
      "/v2/images",
      { name, disk_format: "raw", container_format: "bare" },
      { authorization: `Bearer ${token}` },
    );
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body.id as string;
  };
  /** The project's images as OpenStack lists them, with their status and size. */
  const imagesOf = async (token: string) => {
    const res = await a.request("GET", "/v2/images?limit=1000", undefined, {
      authorization: `Bearer ${token}`,
    });
    return res.body.images as { id: string; status: string; size: number | null }[];
  };

  for (const announced of [true, false]) {
    it(`64 concurrent uploads ${announced ? "announcing their length" : "sent chunked (counted as they stream)"} never pass the byte limit`, async () => {
      const project = announced ? "race-announced" : "race-chunked";
      const token = editorOf(project);
      const data = fs.readFileSync(fixture("raw", 1).path);
      const limit = Math.floor(10.5 * data.length);
      await setLimits(project, { image_size_total: String(limit) });
      const ids = await Promise.all(
        Array.from({ length: 64 }, (_, i) => register(i % 2 ? a : b, token, `upload-${i}`)),
      );
      const started = performance.now();
      const statuses = await Promise.all(
        ids.map(async (id, i) => {
          const node = i % 2 ? b : a;
          const body = announced
            ? data
            : new ReadableStream({
                start(controller) {
                  for (let at = 0; at < data.length; at += 64 * 1024)
                    controller.enqueue(data.subarray(at, at + 64 * 1024));
                  controller.close();
                },
              });
          const res = await fetch(`${node.url}/v2/images/${id}/file`, {
            method: "PUT",
            headers: { authorization: `Bearer ${token}`, "content-type": "application/octet-stream" },
            body,
            ...(announced ? {} : { duplex: "half" }),
          } as RequestInit);
          await res.arrayBuffer();
          return res.status;
        }),
      );
      const seconds = (performance.now() - started) / 1000;
      const admitted = statuses.filter((s) => s === 204).length;
      assert.ok(
        statuses.every((s) => s === 204 || s === 413),
        statuses.join(","),
      );
      if (announced) assert.equal(admitted, 10, "exactly what fits under the limit");
      else assert.ok(admitted >= 1 && admitted <= 10, `${admitted} admitted`);

      const images = await imagesOf(token);
      const stored = images.filter((i) => i.status === "active").reduce((sum, i) => sum + (i.size ?? 0), 0);
      assert.equal(images.filter((i) => i.status === "active").length, admitted);
      assert.ok(stored <= limit, `${stored} stored over a limit of ${limit}`);
      assert.ok(images.every((i) => i.status === "active" || i.status === "queued"));
      const usage = await usageOf(project);
      assert.equal(Number(usage.image_size_total!.usage), stored, "usage is what is stored");
      assert.equal(Number(usage.image_count_uploading!.usage), 0);
      assert.equal(await reservations(), 0, "nothing is left held");
      console.log(
        `# quotas: 64 ${announced ? "announced" : "chunked"} uploads of ${data.length} B, limit ${limit} B: ` +
          `${admitted} admitted, ${64 - admitted} refused, ${stored} B stored, ${seconds.toFixed(2)} s`,
      );
    });
  }

  // Last: it kills a node.
  it("a node SIGKILLed mid-stream gives back what its uploads held once another node knows it is gone", async () => {
    const project = "killed-uploads";
    const token = editorOf(project);
    const data = fs.readFileSync(fixture("raw", 1).path);
    await setLimits(project, { image_size_total: String(3 * data.length) });
    const stalled = await Promise.all([register(b, token, "stalled-1"), register(b, token, "stalled-2")]);
    const requests = stalled.map((id) => {
      const req = http.request(`${b.url}/v2/images/${id}/file`, {
        method: "PUT",
        headers: {
          authorization: `Bearer ${token}`,
          "content-type": "application/octet-stream",
          "content-length": String(data.length),
        },
      });
      req.on("error", () => {}); // its server dies under it
      req.write(data.subarray(0, data.length >> 1));
      return req;
    });
    // Both hold their announced length while they stream: a third of twice the size does not fit.
    for (
      let i = 0;
      i < 100 && Number((await usageOf(project)).image_size_total!.usage) < 2 * data.length;
      i++
    ) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(Number((await usageOf(project)).image_size_total!.usage), 2 * data.length);
    const big = Buffer.concat([data, data]);
    const other = await register(a, token, "waiting");
    const put = () =>
      fetch(`${a.url}/v2/images/${other}/file`, {
        method: "PUT",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/octet-stream" },
        body: big,
      });
    assert.equal((await put()).status, 413);

    await b.stop("SIGKILL");
    for (const req of requests) req.destroy();
    // A node starting on this machine knows at once that b's process is gone (another machine
    // would wait for b's record to age: README "Quotas").
    const killedAt = performance.now();
    const c = await startServer({ dataDir: tempDir("quota-c"), env });
    nodes.push(c);
    let usage = await usageOf(project).catch(() => null);
    for (let i = 0; i < 200 && Number(usage?.image_size_total?.usage ?? 1) !== 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      usage = await c.request("GET", `/vitrine/v1/quotas/${project}`).then((r) => r.body.quotas);
    }
    assert.equal(Number(usage!.image_size_total!.usage), 0, "the killed node's reservations are released");
    console.log(
      `# quotas: reservations of a SIGKILLed node released ${((performance.now() - killedAt) / 1000).toFixed(1)} s after the kill`,
    );
    for (const id of stalled) {
      assert.equal((await c.request("GET", `/v2/images/${id}`)).body.status, "queued");
    }
    assert.equal((await put()).status, 204, "the room is there again");
    assert.equal(await reservations(), 0);
  });
});
