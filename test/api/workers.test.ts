import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type FileServer, startFileServer } from "../helpers/file-server.js";
import { image } from "../helpers/fixtures.js";
import { createOsImage, putData } from "../helpers/openstack.js";
import { type RunningServer, eventually, startServer, waitOperation } from "../helpers/server.js";

const listening = (server: RunningServer) =>
  server.logs.filter((l) => String(l.msg).startsWith("vitrine listening")).map((l) => Number(l.pid));

/**
 * `vitrine serve --workers 2`: a primary prepares the installation once and keeps two worker
 * processes serving the same listeners and data directory; a killed worker is replaced, SIGTERM
 * stops them all cleanly.
 */
describe("several processes: --workers", () => {
  let server: RunningServer;
  let files: FileServer;
  before(async () => {
    files = await startFileServer();
    server = await startServer({ env: { VITRINE_WORKERS: "2", VITRINE_IMPORT_ALLOWED_HOSTS: "127.0.0.1" } });
    await eventually(async () => listening(server).length >= 2, 30_000);
  });
  after(async () => {
    await server?.stop();
    await files?.close();
  });

  test("the bootstrap token is made once, and both workers answer on the shared listeners", async () => {
    assert.equal(
      server.logs.filter((l) => String(l.msg).startsWith("created the bootstrap admin token")).length,
      1,
    );
    const workers = new Set(listening(server));
    assert.equal(workers.size, 2);
    assert.ok(!workers.has(server.child.pid!), "the primary serves nothing itself");
    // Connections are handed out in turn: enough of them reach both workers.
    await Promise.all(
      Array.from({ length: 24 }, async () => {
        const res = await fetch(`${server.url}/compute/v1/images?folderId=w`, {
          headers: { authorization: `Bearer ${server.token}`, connection: "close" },
        });
        assert.equal(res.status, 200);
        await res.arrayBuffer();
      }),
    );
    // Each worker logs its requests after answering them: the lines arrive a little later.
    const servedBy = () =>
      new Set(
        server.logs
          .filter((l) => typeof l.status === "number" && typeof l.route === "string")
          .map((l) => Number(l.pid)),
      );
    await eventually(
      async () => [...workers].every((pid) => servedBy().has(pid)),
      10_000,
      "both workers served requests",
    );
  });

  test("concurrent uploads and operations work whichever worker takes them", async () => {
    const fixture = image("qcow2", 8);
    // Concurrent uploads land on both processes, whose transactions meet in one SQLite file.
    const uploads = await Promise.all(
      Array.from({ length: 6 }, async (_, i) => {
        const img = await createOsImage(server, {
          name: `w${i}`,
          disk_format: "qcow2",
          container_format: "bare",
        });
        assert.equal((await putData(server, img.id, fixture.path)).status, 204);
        return img;
      }),
    );
    const uploaded = uploads[0]!;
    const created = await Promise.all(
      Array.from({ length: 4 }, (_, i) =>
        server.request("POST", "/compute/v1/images", {
          folderId: "w",
          name: `w-${i}`,
          uri: files.serve(`w${i}.qcow2`, fixture.path),
        }),
      ),
    );
    for (const op of created) {
      const done = await waitOperation(server, op.body.id);
      assert.ok(done.response, JSON.stringify(done.error));
      assert.equal(done.response.storageSize, String(fixture.size));
    }
    const got = await server.request("GET", `/v2/images/${uploaded.id}`);
    assert.equal(got.body.checksum, fixture.md5);
  });

  test("the primary's metrics listener answers for all workers: counters summed, catalog figures once", async () => {
    const scrape = async () => {
      const text = await (await fetch(server.metricsUrl())).text();
      const value = (key: string) => {
        const line = text.split("\n").find((l) => l.startsWith(`${key} `));
        return line === undefined ? 0 : Number(line.slice(key.length + 1));
      };
      return value;
    };
    assert.match(server.metricsUrl(), /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const m = await scrape();
    // 24 list requests in the first test, one more here: whichever worker took them.
    const lists =
      'vitrine_http_requests_total{dialect="compute",route="/compute/v1/images",method="GET",status="200"}';
    const before = m(lists);
    assert.ok(before >= 24, `${before} list requests counted`);
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        const res = await fetch(`${server.url}/compute/v1/images?folderId=w`, {
          headers: { authorization: `Bearer ${server.token}`, connection: "close" },
        });
        await res.arrayBuffer();
      }),
    );
    assert.equal((await scrape())(lists), before + 8);
    assert.equal(m('vitrine_ingested_bytes_total{source="upload"}'), 6 * image("qcow2", 8).size);
    // 6 uploads and 4 imports are active: the catalog's figure, not one per worker.
    assert.equal(m('vitrine_images{kind="compute",status="active"}'), 10);
  });

  test("a killed worker is replaced and the service keeps answering", async () => {
    const [victim] = listening(server);
    process.kill(victim!, "SIGKILL");
    await eventually(
      async () => server.logs.some((l) => l.msg === "a worker died; starting another"),
      10_000,
    );
    await eventually(async () => new Set(listening(server)).size >= 3, 30_000);
    const res = await server.request("GET", "/compute/v1/images?folderId=w");
    assert.equal(res.status, 200);
    assert.equal(res.body.images.length, 4);
  });

  test("SIGTERM stops the primary and every worker with exit code 0", async () => {
    const workers = [...new Set(listening(server))];
    assert.equal(await server.stop("SIGTERM"), 0);
    for (const pid of workers) {
      assert.throws(() => process.kill(pid, 0), `worker ${pid} still running`);
    }
  });
});
