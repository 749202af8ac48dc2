import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { image as fixture } from "../helpers/fixtures.js";
import { type FileServer, startFileServer } from "../helpers/file-server.js";
import { type PgS3Servers, startPgS3Servers } from "../helpers/pg-s3.js";
import { openPostgresCatalog, openSqliteCatalog } from "../../src/storage/meta/open-catalog.js";
import {
  type RunningServer,
  blobFiles,
  eventually,
  startServer,
  tempDir,
  waitOperation,
} from "../helpers/server.js";

/**
 * Scheduled lifecycle transitions are durable work (README "Lifecycle"): 100 of them due at the
 * same moment, the node running them SIGKILLed at that moment; every one fires within 60 s of
 * its time and none twice — on one node that comes back, and on two nodes sharing PostgreSQL + S3
 * where the survivor takes over. Prints how late the last one fired.
 */
const TRANSITIONS = 100;
const DUE_IN_MS = 10_000;
const BOUND_MS = 60_000;

interface Scheduled {
  ids: string[];
  /** Each image's version (saves so far) once its transition was scheduled. */
  versions: Map<string, number>;
  dueAt: number;
}

/** The images' versions, read from the installation's catalog itself (SQLite file or PostgreSQL). */
async function versionsOf(server: RunningServer, ids: string[]): Promise<Map<string, number>> {
  const url = server.env.VITRINE_DATABASE_URL;
  const catalog = url
    ? await openPostgresCatalog(url)
    : await openSqliteCatalog(path.join(server.dataDir, "vitrine.sqlite"));
  try {
    const out = new Map<string, number>();
    for (const id of ids) out.set(id, (await catalog.images.findById(id))!.version);
    return out;
  } finally {
    await catalog.close();
  }
}

/** One source image and TRANSITIONS images made from it (no bytes copied), each due at the same time. */
async function schedule(server: RunningServer, uri: string, folderId: string): Promise<Scheduled> {
  const source = await server.request("POST", "/compute/v1/images", { folderId, uri });
  const done = await waitOperation(server, source.body.id);
  const sourceId = done.response.id as string;
  const ids: string[] = [];
  for (let i = 0; i < TRANSITIONS; i++) {
    const res = await server.request("POST", "/compute/v1/images", { folderId, imageId: sourceId });
    assert.equal(res.status, 200, res.text);
    ids.push(res.body.metadata.imageId);
  }
  for (const id of ids) {
    await eventually(
      async () => (await server.request("GET", `/compute/v1/images/${id}`)).body.status === "READY",
      30_000,
      `image ${id}`,
    );
  }
  const dueAt = Date.now() + DUE_IN_MS;
  const deprecateAt = new Date(dueAt).toISOString();
  for (const id of ids) {
    const res = await server.request("POST", `/compute/v1/images/${id}:deprecate`, {
      state: "ACTIVE",
      deprecateAt,
    });
    assert.equal(res.status, 200, res.text);
  }
  return { ids, versions: await versionsOf(server, ids), dueAt };
}

/** Waits for every transition; checks each fired once; returns how late the last one was (ms). */
async function fired(server: RunningServer, s: Scheduled): Promise<number> {
  const pending = new Set(s.ids);
  for (;;) {
    for (const id of [...pending]) {
      const img = await server.request("GET", `/compute/v1/images/${id}`);
      if (img.body.deprecated?.state === "DEPRECATED") pending.delete(id);
    }
    if (pending.size === 0) break;
    assert.ok(
      Date.now() < s.dueAt + BOUND_MS,
      `${pending.size} transitions had not fired 60 s after their time`,
    );
    await new Promise((r) => setTimeout(r, 250));
  }
  const lastFired = Date.now();
  for (const id of s.ids) {
    const ops = (await server.request("GET", `/compute/v1/images/${id}/operations?pageSize=100`)).body
      .operations as {
      description: string;
      done: boolean;
      error?: unknown;
      response?: unknown;
    }[];
    const transitions = ops.filter((o) => o.description.startsWith("Deprecate image at"));
    assert.equal(transitions.length, 1, `one scheduled transition for ${id}`);
    assert.equal(transitions[0]!.done, true);
    assert.equal(transitions[0]!.error, undefined, JSON.stringify(transitions[0]!.error));
  }
  return lastFired - s.dueAt;
}

/** None fired twice: each image was saved exactly once more than when it was scheduled. */
async function savedOnce(server: RunningServer, s: Scheduled): Promise<void> {
  const now = await versionsOf(server, s.ids);
  for (const id of s.ids)
    assert.equal(now.get(id), s.versions.get(id)! + 1, `image ${id} saved once by its transition`);
}

describe("lifecycle durability: scheduled transitions through a SIGKILL at their due time, the recycle bin through a restart", () => {
  let files: FileServer;
  let uri: string;
  before(async () => {
    files = await startFileServer();
    uri = files.serve("disk.qcow2", fixture("qcow2", 8).path);
  });
  after(async () => files.close());

  it("one node, killed at the due time and started again: all fire within 60 s, none twice", async () => {
    const dataDir = tempDir("lifecycle-one");
    const env = { VITRINE_IMPORT_ALLOWED_HOSTS: "127.0.0.1", VITRINE_OPERATION_LEASE_SECONDS: "20" };
    const first = await startServer({ dataDir, env });
    const s = await schedule(first, uri, "f");
    await new Promise((r) => setTimeout(r, s.dueAt - Date.now() + 50));
    await first.stop("SIGKILL");
    const second = await startServer({ dataDir, env });
    try {
      const late = await fired(second, s);
      await savedOnce(second, s);
      console.log(
        `# lifecycle: ${TRANSITIONS} transitions, node SIGKILLed at the due time and restarted: the last fired ${(late / 1000).toFixed(1)} s after its time`,
      );
    } finally {
      await second.stop();
    }
  });

  it("the recycle bin across a restart: restored whole; purged when its time is up, the bytes only when unshared", async () => {
    const dataDir = tempDir("lifecycle-bin");
    const env = { VITRINE_IMPORT_ALLOWED_HOSTS: "127.0.0.1", VITRINE_RECYCLE_BIN_RETENTION: "10s" };
    const first = await startServer({ dataDir, env });
    const create = async (body: Record<string, unknown>) => {
      const res = await first.request("POST", "/compute/v1/images", { folderId: "bin", ...body });
      return (await waitOperation(first, res.body.id)).response as { id: string };
    };
    // Its own bytes (a different file): content-addressed blobs would share identical ones.
    const keptUri = files.serve("kept.qcow2", fixture("qcow2", 16).path);
    const kept = await create({ uri: keptUri, name: "kept", labels: { team: "a" } });
    const shared = await create({ uri, name: "shared" });
    const copy = await create({ imageId: shared.id, name: "copy" });
    const blobsBefore = blobFiles(dataDir).committed;
    for (const id of [kept.id, shared.id]) {
      const del = await first.request("DELETE", `/compute/v1/images/${id}`);
      await waitOperation(first, del.body.id);
      assert.equal((await first.request("GET", `/compute/v1/images/${id}`)).status, 404);
    }
    await first.stop();
    const second = await startServer({ dataDir, env });
    try {
      const restored = await second.request("POST", `/vitrine/v1/recycleBin/${kept.id}:restore`);
      assert.equal(restored.status, 200, restored.text);
      const back = await second.request("GET", `/compute/v1/images/${kept.id}`);
      assert.equal(back.body.status, "READY");
      assert.deepEqual(back.body.labels, { team: "a" });
      const file = await fetch(`${second.url}/v2/images/${kept.id}/file`, {
        headers: { "x-auth-token": second.token },
      });
      assert.equal(
        createHash("md5")
          .update(Buffer.from(await file.arrayBuffer()))
          .digest("hex"),
        fixture("qcow2", 16).md5,
      );
      // The shared image's purge comes when its time is up, on the restarted node; its bytes stay
      // (the copy holds them) until the copy is purged too.
      await eventually(
        async () =>
          ((await second.request("GET", "/vitrine/v1/recycleBin?folderId=bin")).body.images ?? []).length ===
          0,
        30_000,
        "the purge",
      );
      assert.equal(blobFiles(dataDir).committed, blobsBefore, "shared bytes stay");
      const del = await second.request("DELETE", `/compute/v1/images/${copy.id}`);
      await waitOperation(second, del.body.id);
      await eventually(
        async () => blobFiles(dataDir).committed === blobsBefore - 1,
        30_000,
        "the last holder's purge",
      );
    } finally {
      await second.stop();
    }
  });

  it("two nodes on PostgreSQL + S3, the one working SIGKILLed at the due time: the other takes over", async () => {
    let servers: PgS3Servers | null = null;
    const nodes: RunningServer[] = [];
    try {
      servers = await startPgS3Servers();
      const { env: backend } = await servers.newInstallation();
      const env = {
        ...backend,
        VITRINE_IMPORT_ALLOWED_HOSTS: "127.0.0.1",
        VITRINE_OPERATION_LEASE_SECONDS: "20",
      };
      const a = await startServer({ dataDir: tempDir("lifecycle-a"), env });
      nodes.push(a);
      // B looks for work every 2 s, A every 100 ms: at the due time A takes the transitions, and
      // is killed holding some; B runs what is left, the held ones once their leases run out.
      const b = await startServer({
        dataDir: tempDir("lifecycle-b"),
        env: { ...env, VITRINE_OPERATION_POLL_MS: "2000" },
      });
      nodes.push(b);
      const s = await schedule(a, uri, "f");
      // Killed a poll interval after the due time: in the middle of its work.
      await new Promise((r) => setTimeout(r, s.dueAt - Date.now() + 150));
      await a.stop("SIGKILL");
      let beforeKill = 0;
      for (const id of s.ids) {
        if ((await b.request("GET", `/compute/v1/images/${id}`)).body.deprecated?.state === "DEPRECATED")
          beforeKill++;
      }
      const late = await fired(b, s);
      await savedOnce(b, s);
      console.log(
        `# lifecycle: ${TRANSITIONS} transitions on two nodes, one SIGKILLed ${150} ms after their time having applied ${beforeKill}: the last fired ${(late / 1000).toFixed(1)} s after its time`,
      );
    } finally {
      for (const n of nodes) await n.stop();
      await servers?.stop();
    }
  });
});
