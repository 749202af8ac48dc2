import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { createReadyImage } from "../helpers/compute.js";
import { type FileServer, startFileServer } from "../helpers/file-server.js";
import { image } from "../helpers/fixtures.js";
import { rawCall } from "../helpers/grpc.js";
import { qcow2Corrupt } from "../helpers/hostile.js";
import { createOsImage, putData } from "../helpers/openstack.js";
import { CLI, type RunningServer, apiRequest, startServer, tempDir } from "../helpers/server.js";

/** The color codes pino-pretty writes on a terminal. */
const ANSI_COLOR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g");

/** A scrape as `name{labels}` → value (label order as Vitrine writes them). */
async function scrape(server: RunningServer): Promise<Map<string, number>> {
  const res = await fetch(server.metricsUrl());
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  const figures = new Map<string, number>();
  for (const line of (await res.text()).split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const at = line.lastIndexOf(" ");
    figures.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return figures;
}

/**
 * What an operator runs Vitrine with: the metrics listener scraped after a known workload (each
 * figure checked against what the workload did), and logs that never carry a secret.
 */
describe("operating Vitrine: metrics and logs", () => {
  let server: RunningServer;
  let files: FileServer;
  const qcow2 = image("qcow2", 8);
  const secretInUrl = "s3cr3t-in-the-url";
  let importedId = "";

  before(async () => {
    files = await startFileServer();
    // A misspelt setting, as operators make them: reported at start, not silently ignored.
    server = await startServer({
      env: { VITRINE_IMPORT_ALLOWED_HOSTS: "127.0.0.1", VITRINE_IDLE_TIMEOUT_SECOND: "5" },
    });

    // The workload: an upload, an import, a refused upload, a download, reads, a 404, a bad token, gRPC.
    const uploaded = await createOsImage(server, {
      name: "up",
      disk_format: "qcow2",
      container_format: "bare",
    });
    assert.equal((await putData(server, uploaded.id, qcow2.path)).status, 204);
    const hostile = await createOsImage(server, {
      name: "bad",
      disk_format: "qcow2",
      container_format: "bare",
    });
    assert.equal((await putData(server, hostile.id, qcow2Corrupt())).status, 400);
    const uri = files.serve("m.qcow2", qcow2.path);
    const withCredentials = await server.request("POST", "/compute/v1/images", {
      folderId: "metrics",
      name: "refused",
      uri: uri.replace("http://", `http://user:${secretInUrl}@`),
    });
    assert.equal(withCredentials.status, 400);
    const imported = await createReadyImage(server, {
      folderId: "metrics",
      name: "imported",
      uri: `${uri}?X-Amz-Signature=${secretInUrl}`,
    });
    importedId = imported.id;
    const quota = await server.request("PATCH", "/vitrine/v1/quotas/metrics", {
      limits: { image_size_total: "1073741824" },
    });
    assert.equal(quota.status, 200);
    const download = await fetch(`${server.url}/v2/images/${uploaded.id}/file`, {
      headers: { "x-auth-token": server.token },
    });
    assert.equal((await download.arrayBuffer()).byteLength, qcow2.size);
    for (let i = 0; i < 3; i++) {
      assert.equal((await server.request("GET", `/compute/v1/images/${imported.id}`)).status, 200);
    }
    assert.equal((await server.request("GET", "/compute/v1/images/fd8nosuchimage000000")).status, 404);
    const badToken = await apiRequest(
      server.url,
      "vt1.wrong-secret-token",
      "GET",
      "/compute/v1/images?folderId=x",
    );
    assert.equal(badToken.status, 401);
    const grpcGet = await rawCall(
      server.grpcAddress,
      "/yandex.cloud.compute.v1.ImageService/Get",
      { imageId: imported.id },
      {
        token: server.token,
        requestType: "yandex.cloud.compute.v1.GetImageRequest",
        responseType: "yandex.cloud.compute.v1.Image",
      },
    );
    assert.equal(grpcGet.code, 0);
  });

  after(async () => {
    await server?.stop();
    await files?.close();
  });

  test("the metrics listener reports what the workload did", async () => {
    const m = await scrape(server);
    const get = (key: string) => m.get(key) ?? 0;
    assert.equal(
      get(
        'vitrine_http_requests_total{dialect="compute",route="/compute/v1/images/:imageRef",method="GET",status="200"}',
      ),
      3,
    );
    assert.equal(
      get(
        'vitrine_http_requests_total{dialect="compute",route="/compute/v1/images/:imageRef",method="GET",status="404"}',
      ),
      1,
    );
    assert.equal(
      get(
        'vitrine_http_requests_total{dialect="openstack",route="/v2/images/:imageId/file",method="PUT",status="204"}',
      ),
      1,
    );
    assert.equal(
      get(
        'vitrine_http_requests_total{dialect="openstack",route="/v2/images/:imageId/file",method="PUT",status="400"}',
      ),
      1,
    );
    assert.equal(
      get(
        'vitrine_http_request_duration_seconds_count{dialect="compute",route="/compute/v1/images/:imageRef",method="GET"}',
      ),
      4,
    );
    assert.equal(
      get(
        'vitrine_grpc_requests_total{service="yandex.cloud.compute.v1.ImageService",method="Get",code="OK"}',
      ),
      1,
    );
    assert.equal(get('vitrine_auth_failures_total{reason="invalid"}'), 1);
    assert.equal(get('vitrine_ingested_bytes_total{source="upload"}'), qcow2.size);
    assert.equal(get('vitrine_ingested_bytes_total{source="uri"}'), qcow2.size);
    assert.equal(get('vitrine_ingest_throughput_bytes_per_second_count{source="upload"}'), 1);
    assert.equal(get('vitrine_ingest_refusals_total{rule="qcow2"}'), 1);
    assert.equal(get("vitrine_served_bytes_total"), qcow2.size);
    assert.equal(get('vitrine_operations_total{kind="image.create",outcome="done"}'), 1);
    assert.equal(get('vitrine_operation_duration_seconds_count{kind="image.create",outcome="done"}'), 1);
    assert.equal(get('vitrine_images{kind="compute",status="active"}'), 2);
    assert.equal(
      get('vitrine_images{kind="compute",status="queued"}'),
      1,
      "the refused upload's image waits for data again",
    );
    // Quotas by project: usage always, the limit where one is set.
    assert.equal(get('vitrine_quota_usage{project="metrics",quota="image_size_total"}'), qcow2.size);
    assert.equal(get('vitrine_quota_usage{project="metrics",quota="image_count_total"}'), 1);
    assert.equal(get('vitrine_quota_limit{project="metrics",quota="image_size_total"}'), 1073741824);
    assert.equal(m.get('vitrine_quota_limit{project="metrics",quota="image_count_total"}'), undefined);
    assert.equal(get('vitrine_operations{state="queued"}'), 0);
    assert.equal(get("vitrine_operations_running_in_process"), 0);
    assert.equal(get("vitrine_blob_store_errors_total"), 0);
    // Events (README "Events and audit"): the outbox published, no webhook subscribed.
    assert.ok(get("vitrine_events_published_total") > 0, "the outbox is published");
    assert.equal(get("vitrine_events_publish_failures_total"), 0);
    assert.equal(get('vitrine_webhook_deliveries{status="pending"}'), 0);
    assert.ok(get("vitrine_process_resident_memory_bytes") > 10e6, "process figures");
    // Ids never become labels: one route template for every image.
    assert.ok(![...m.keys()].some((k) => k.includes(importedId)), "no image id in a label");
  });

  test("the metrics listener serves /metrics only, and the API port does not serve it", async () => {
    const other = await fetch(server.metricsUrl().replace("/metrics", "/v2/images"));
    assert.equal(other.status, 404);
    const onApi = await fetch(`${server.url}/metrics`);
    assert.equal(onApi.status, 404);
  });

  test("no secret is ever logged: tokens, URL credentials and signatures", () => {
    const everything = JSON.stringify(server.logs) + server.stderr();
    assert.ok(server.logs.length > 20, "the workload was logged (requests, operations)");
    for (const secret of [server.token, "wrong-secret-token", secretInUrl]) {
      assert.ok(!everything.includes(secret), `${secret} appears in the logs`);
    }
  });

  test("one request id: the header, the error body and the server's log line say the same", async () => {
    const os = await server.request("GET", "/v2/images/00000000-0000-4000-8000-000000000000");
    assert.equal(os.status, 404);
    const osId = os.headers.get("x-openstack-request-id");
    assert.match(osId ?? "", /^req-[0-9a-f-]{36}$/);
    const compute = await server.request("GET", "/compute/v1/images/abcdefghijklmnopqrst");
    assert.equal(compute.status, 404);
    const computeId = compute.headers.get("x-request-id");
    assert.match(computeId ?? "", /^[0-9a-f-]{36}$/);
    assert.equal(
      compute.body.details.find((d: any) => d["@type"] === "type.googleapis.com/google.rpc.RequestInfo")
        ?.requestId,
      computeId,
    );
    await new Promise((r) => setTimeout(r, 200));
    for (const id of [osId, computeId])
      assert.ok(
        server.logs.some((l) => l.reqId === id && l.status === 404),
        `the response's log line carries ${id}`,
      );
  });

  test("the log: one access line per request, polls at debug, refusals at warn with who and what", () => {
    // Fastify's own two records per request are gone: one line, an access log's fields.
    assert.ok(!server.logs.some((l) => l.msg === "incoming request" || l.msg === "request completed"));
    const reads = server.logs.filter((l) => l.route === "/compute/v1/images/:imageRef" && l.method === "GET");
    assert.equal(reads.filter((l) => l.status === 200).length, 3, "one line per request");
    const read = reads.find((l) => l.status === 200)!;
    assert.equal(read.level, 30);
    assert.match(String(read.msg), /^GET \/compute\/v1\/images\/\w+ 200$/);
    const admin = String(read.subject);
    assert.match(admin, /^[a-z][a-z0-9]{19}$/, "the subject's id");
    assert.ok(Number(read.bytes) > 100 && typeof read.ms === "number" && typeof read.reqId === "string");
    // The create waited for its operation by polling it: those lines are at debug.
    const polls = server.logs.filter((l) => l.route === "/operations/:operationRef" && l.status === 200);
    assert.ok(polls.length > 0 && polls.every((l) => l.level === 20), "polls at debug");

    const warned = server.logs.filter((l) => l.level === 40 && String(l.msg).startsWith("refused: "));
    const hostile = warned.find((l) => l.reason === "IMAGE_REFUSED");
    assert.ok(hostile, "the hostile image's refusal is at warn");
    assert.equal(hostile.subject, admin);
    assert.equal(hostile.folder, "admin");
    assert.match(String(hostile.image), /^[0-9a-f-]{36}$/);
    const url = warned.find((l) => l.reason === "URI_REFUSED");
    assert.ok(url, "the refused import URL is at warn");
    assert.match(String(url.msg), /credentials in the URL are not allowed/);
    const badTokens = server.logs.filter((l) => l.status === 401);
    assert.equal(badTokens.length, 1, "a failed authentication has its access line");
  });

  test("start-up prints one banner with every listener and where the admin token is", () => {
    const banners = server.logs.filter((l) => String(l.msg).startsWith("vitrine listening"));
    assert.equal(banners.length, 1);
    const banner = String(banners[0]!.msg);
    assert.ok(banner.includes(`REST ${server.url}`), banner);
    assert.ok(banner.includes(`console ${server.url}/console/`), banner);
    assert.ok(banner.includes(`gRPC ${server.grpcAddress}`), banner);
    assert.ok(banner.includes(`metrics ${server.metricsUrl()}`), banner);
    assert.match(banner, / · SQLite \+ directory under \/.+ · admin token in \/.+\/admin-token$/);
  });

  test("a clean start: nothing on stderr (no framework warnings), JSON logs when not on a terminal", () => {
    assert.equal(server.stderr(), "");
    assert.ok(server.logs.some((l) => String(l.msg).startsWith("vitrine listening")));
    const warned = server.logs.find((l) => String(l.msg).startsWith("unknown setting"));
    assert.equal(
      warned?.msg,
      "unknown setting VITRINE_IDLE_TIMEOUT_SECOND (environment) is ignored; did you mean VITRINE_IDLE_TIMEOUT_SECONDS?",
    );
    assert.equal(warned?.level, 40);
  });

  test("on a terminal the logs are for people (pino-pretty), not JSON", async () => {
    const dataDir = tempDir("pretty");
    const command = `${process.execPath} ${CLI} serve --data-dir ${dataDir} --listen 127.0.0.1:0 --grpc-listen off --metrics-listen off`;
    const output = await new Promise<string>((resolve) => {
      const child = spawn("script", ["-qfc", command, "/dev/null"], { stdio: ["pipe", "pipe", "pipe"] });
      let out = "";
      let interrupted = false;
      let asked = false;
      child.stdin.on("error", () => undefined); // the terminal may be gone by then
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        const rest = /REST (http:\/\/[^ ]+)/.exec(out.replace(ANSI_COLOR, ""));
        if (!asked && rest) {
          asked = true;
          // One request, to see its access line as an operator watching the terminal does.
          void fetch(`${rest[1]}/v2/images`).catch(() => undefined);
        }
        if (!interrupted && / 401 /.test(out)) {
          interrupted = true;
          child.stdin.write("\x03");
        }
      });
      const timer = setTimeout(() => child.kill(), 20_000);
      child.on("close", () => {
        clearTimeout(timer);
        resolve(out);
      });
    });
    assert.match(output, /INFO.*vitrine listening/);
    // The access line is one line: method, URL, status, time, bytes and request id.
    assert.match(
      output.replace(ANSI_COLOR, ""),
      /INFO: GET \/v2\/images 401 [\d.]+ms \d+B req-[0-9a-f-]{36}\r?\n/,
    );
    assert.ok(!output.includes('{"level"'), output);
  });
});
