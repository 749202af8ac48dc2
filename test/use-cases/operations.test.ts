import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import pino from "pino";
import { saveImage } from "../../src/core/images/save-image.js";
import { transition } from "../../src/core/image-states.js";
import type { OperationRunner } from "../../src/core/operations/operation-runner.js";
import { OperationEngine } from "../../src/worker/operation-engine.js";
import { type FileServer, startFileServer } from "../helpers/file-server.js";
import { image as fixture, iso } from "../helpers/fixtures.js";
import {
  type InProcess,
  creation,
  member,
  settled,
  startInProcess,
  startWorker,
} from "../helpers/in-process.js";

/**
 * The two halves of the long use cases and the worker between them, in process on the real
 * stores: what a run decides when the catalog changed after the request was accepted, and how the
 * worker answers a save that lost a race (the use case is decided again on what is stored now).
 */
const alice = member("alice", "f1", "editor");

describe("operations between request and run", () => {
  let env: InProcess;
  let files: FileServer;
  let uri: string;
  let isoUri: string;

  before(async () => {
    // No workers: each test queues work, changes the catalog, then starts a worker of its own.
    env = await startInProcess({}, { workers: false });
    files = await startFileServer();
    uri = files.serve("disk.qcow2", fixture("qcow2", 8).path);
    isoUri = files.serve("installer.iso", iso("ops").path);
  });
  after(async () => {
    await env.close();
    await files.close();
  });

  const createInput = (name: string) => creation(uri, { name });

  it("a deferred rename is refused when it runs if the name was taken after it was accepted", async () => {
    const worker = startWorker(env, "node-1");
    const bareMetal = (name: string) => ({
      ...createInput(name),
      kind: "baremetal" as const,
      source: { type: "uri" as const, uri: isoUri },
    });
    const created = await settled(env.core, alice, await env.core.images.create(alice, bareMetal("first")));
    assert.equal(created.error, null, created.error?.message);
    await worker.stop();
    const ref = { kind: "baremetal" as const, id: created.resourceId };

    const { operation } = await env.core.images.update(
      alice,
      ref,
      { set: { name: "wanted" } },
      { apply: "deferred", uniqueName: true, minDiskCoversData: false, description: "Update image" },
    );
    // Accepted while the name was free; another image takes it before a worker applies the rename.
    const rival = await env.core.images.create(alice, bareMetal("wanted"));

    const next = startWorker(env, "node-2");
    try {
      const renamed = await settled(env.core, alice, operation);
      assert.equal(renamed.error?.code, "ALREADY_EXISTS", renamed.error?.message);
      const image = await env.core.images.get(alice, ref);
      assert.equal(image.name, "first");
      assert.equal(image.status, "active");
      assert.equal((await settled(env.core, alice, rival)).error, null);
    } finally {
      await next.stop();
    }
  });

  it("an image edited while its data came in ends active with the edit kept", async () => {
    const slow = await startFileServer({ chunkBytes: 64 * 1024, intervalMs: 100 });
    const worker = startWorker(env, "node-3");
    try {
      const slowUri = slow.serve("slow.qcow2", fixture("qcow2", 8).path).replace("/files/", "/slow/");
      const op = await env.core.images.create(alice, {
        ...createInput("edited"),
        source: { type: "uri", uri: slowUri },
      });
      const ref = { kind: "compute" as const, id: op.resourceId };
      await env.core.images.update(
        alice,
        ref,
        { set: { description: "written while importing" } },
        { apply: "now", uniqueName: true, minDiskCoversData: false, description: "Update image" },
      );
      const done = await settled(env.core, alice, op);
      assert.equal(done.error, null, done.error?.message);
      const image = await env.core.images.get(alice, ref);
      assert.equal(image.status, "active");
      assert.equal(image.description, "written while importing");
      assert.ok(image.checksumSha512);
    } finally {
      await worker.stop();
      await slow.close();
    }
  });

  describe("the worker's answer to a lost race", () => {
    /** A runner whose ending saves over a stale read `losses` times (another writer got there first). */
    function racingRunner(losses: number, rolledBack: string[]): OperationRunner {
      let lost = 0;
      return {
        cancellable: false,
        async run(ctx) {
          await ctx.complete(async (tx) => {
            const read = (await tx.images.findById(ctx.op.resourceId))!;
            if (lost < losses) {
              lost++;
              await saveImage(tx, read, { ...read, description: "the other writer" });
            }
            const saved = await saveImage(tx, read, transition(read, "active"));
            return { type: "image", image: saved };
          });
        },
        async rollback(tx, op, error) {
          rolledBack.push(error.code);
          const image = await tx.images.findById(op.resourceId);
          if (image) await saveImage(tx, image, transition(image, "killed"));
        },
      };
    }

    async function runWith(runner: OperationRunner, name: string) {
      const op = await env.core.images.create(alice, createInput(name));
      const engine = new OperationEngine(
        env.catalog,
        { "image.create": runner },
        { owner: `test-${name}`, leaseMs: 2000, pollMs: 20, concurrency: 1, maxAttempts: 3 },
        pino({ level: "silent" }),
      );
      engine.start();
      try {
        return await settled(env.core, alice, op);
      } finally {
        await engine.stop();
      }
    }

    it("decides the ending again on what is stored now", async () => {
      const rolledBack: string[] = [];
      const op = await runWith(racingRunner(1, rolledBack), "raced-once");
      assert.equal(op.error, null, op.error?.message);
      assert.deepEqual(rolledBack, []);
      const image = await env.core.images.get(alice, { kind: "compute", id: op.resourceId });
      assert.equal(image.status, "active");
      // The losing attempt's transaction was rolled back whole: nothing of it is stored.
      assert.equal(image.description, "");
    });

    it("fails the operation with ABORTED when the race is lost every time, and rolls back", async () => {
      const rolledBack: string[] = [];
      const op = await runWith(racingRunner(Infinity, rolledBack), "raced-always");
      assert.equal(op.error?.code, "ABORTED");
      assert.deepEqual(rolledBack, ["ABORTED"]);
      assert.equal((await env.catalog.images.findById(op.resourceId))?.status, "killed");
    });
  });
});
