import assert from "node:assert/strict";
import http from "node:http";
import { after, before, describe, test } from "node:test";
import { rawHttp } from "../helpers/net.js";
import { PATCH_TYPE, createOsImage, osRequest, projectToken } from "../helpers/openstack.js";
import { type RunningServer, apiRequest, eventually, startServer } from "../helpers/server.js";

/**
 * Requests any token holder can send that once answered 500 (or answered outside the dialect's
 * error format): each is refused in the dialect's own shape, and none is logged as an error.
 */
describe("hostile requests", () => {
  let server: RunningServer;
  let userToken: string;

  before(async () => {
    server = await startServer({
      env: {
        VITRINE_IDLE_TIMEOUT_SECONDS: "1",
        VITRINE_UPLOAD_MIN_RATE: "4096",
        VITRINE_UPLOAD_RATE_GRACE_SECONDS: "2",
      },
    });
    userToken = projectToken(server, "p1");
  });
  after(async () => {
    const errors = server.logs.filter((l) => Number(l.level) >= 50);
    await server.stop();
    assert.deepEqual(errors, [], "nothing here is the service's failure");
  });

  const yandexError = (res: { status: number; body: any }, status: number, code: number) => {
    assert.equal(res.status, status, JSON.stringify(res.body));
    assert.equal(res.body.code, code);
    assert.equal(typeof res.body.message, "string");
  };
  const glanceError = (res: { status: number; body: any }, status: number, message?: RegExp) => {
    assert.equal(res.status, status, JSON.stringify(res.body));
    assert.match(res.body.code, new RegExp(`^${status} `));
    if (message) assert.match(res.body.message, message);
  };

  test("folder ids that name Object.prototype members are folders like any other", async () => {
    for (const folderId of ["constructor", "__proto__", "toString", "hasOwnProperty"]) {
      const user = (m: string, p: string, b?: unknown) => apiRequest(server.url, userToken, m, p, b);
      yandexError(await user("GET", `/compute/v1/images?folderId=${folderId}`), 403, 7);
      yandexError(await user("POST", "/compute/v1/images", { folderId, name: "x", imageId: "nope" }), 403, 7);
      const admin = await server.request("GET", `/compute/v1/images?folderId=${folderId}`);
      assert.equal(admin.status, 200);
      assert.deepEqual(admin.body.images ?? [], []);
    }
  });

  test("JSON nested thousands deep is 400 in both dialects", async () => {
    const deep = `${'{"a":'.repeat(5000)}1${"}".repeat(5000)}`;
    glanceError(
      await osRequest(server, "POST", "/v2/images", deep, { "content-type": "application/json" }),
      400,
      /nested deeper than 64/,
    );
    yandexError(await server.request("POST", "/compute/v1/images", deep), 400, 3);
    const arrays = `${"[".repeat(5000)}${"]".repeat(5000)}`;
    const img = await createOsImage(server, { name: "deep", disk_format: "raw", container_format: "bare" });
    glanceError(await osRequest(server, "PATCH", `/v2/images/${img.id}`, arrays, PATCH_TYPE), 400);
  });

  test("property names that would reach a prototype are 400 (create and patch)", async () => {
    const created = await osRequest(server, "POST", "/v2/images", '{"name": "p", "__proto__": "x"}', {
      "content-type": "application/json",
    });
    glanceError(created, 400, /Property name '__proto__' is not allowed/);
    const img = await createOsImage(server, { name: "p", disk_format: "raw", container_format: "bare" });
    for (const path of ["/__proto__", "/constructor", "/prototype"]) {
      const res = await osRequest(
        server,
        "PATCH",
        `/v2/images/${img.id}`,
        [{ op: "add", path, value: "x" }],
        PATCH_TYPE,
      );
      glanceError(res, 400, /is not allowed/);
    }
    const still = await osRequest(server, "GET", `/v2/images/${img.id}`);
    assert.equal(still.body.name, "p");
  });

  test("hundreds of property or tag filters are 400, not a database error", async () => {
    const props = Array.from({ length: 600 }, (_, i) => `p${i}=v`).join("&");
    glanceError(await osRequest(server, "GET", `/v2/images?${props}`), 400, /Too many filters/);
    const tags = Array.from({ length: 600 }, (_, i) => `tag=t${i}`).join("&");
    glanceError(await osRequest(server, "GET", `/v2/images?${tags}`), 400, /Too many filters/);
    assert.equal((await osRequest(server, "GET", "/v2/images?tag=a&tag=b&p1=v")).status, 200);
  });

  test("malformed percent-encoding and over-long ids answer in the dialect's format", async () => {
    glanceError(await osRequest(server, "GET", "/v2/images/%E0%A4%A"), 400, /percent-encoding/);
    yandexError(await server.request("GET", "/compute/v1/images/%E0%A4%A"), 400, 3);
    yandexError(await server.request("GET", "/operations/%zz"), 400, 3);
    const long = "a".repeat(1100);
    glanceError(await osRequest(server, "GET", `/v2/images/${long}`), 414);
    yandexError(await server.request("GET", `/compute/v1/images/${long}`), 400, 3);
    yandexError(await server.request("GET", `/baremetal/v1alpha/images/${long}`), 400, 3);
  });

  test("a stalled upload times out: the connection is closed and the image is queued again", async () => {
    const img = await createOsImage(server, { name: "stall", disk_format: "raw", container_format: "bare" });
    const closed = new Promise<void>((resolve) => {
      const req = http.request(`${server.url}/v2/images/${img.id}/file`, {
        method: "PUT",
        headers: { "x-auth-token": server.token, "content-type": "application/octet-stream" },
      });
      req.on("error", () => resolve());
      req.on("close", () => resolve());
      req.write(Buffer.alloc(64 * 1024, 1)); // then nothing more
    });
    await eventually(
      async () => (await osRequest(server, "GET", `/v2/images/${img.id}`)).body.status === "saving",
    );
    const started = Date.now();
    await closed;
    assert.ok(Date.now() - started < 10_000, "closed after the idle timeout");
    await eventually(
      async () => (await osRequest(server, "GET", `/v2/images/${img.id}`)).body.status === "queued",
    );
  });

  test("an upload that trickles (never idle) is cut once its grace period is over: 408, closed, queued again", async () => {
    const img = await createOsImage(server, {
      name: "trickle",
      disk_format: "raw",
      container_format: "bare",
    });
    const started = Date.now();
    const answer = await new Promise<{ status: number | undefined; body: string }>((resolve) => {
      const req = http.request(`${server.url}/v2/images/${img.id}/file`, {
        method: "PUT",
        headers: {
          "x-auth-token": server.token,
          "content-type": "application/octet-stream",
          "content-length": String(1024 * 1024),
          accept: "application/json",
        },
      });
      // 8 bytes every 200 ms: 40 B/s, never silent for the 1 s idle timeout.
      const drip = setInterval(() => req.write(Buffer.alloc(8, 1)), 200);
      req.on("response", (res) => {
        let body = "";
        res.on("data", (d: Buffer) => (body += d.toString()));
        res.on("end", () => {
          clearInterval(drip);
          resolve({ status: res.statusCode, body });
        });
      });
      req.on("error", () => {
        clearInterval(drip);
        resolve({ status: undefined, body: "" });
      });
    });
    assert.equal(answer.status, 408, answer.body);
    assert.match(JSON.parse(answer.body).message, /below the minimum of 4096 bytes\/s/);
    assert.ok(Date.now() - started < 10_000, "cut soon after the 2 s grace period");
    await eventually(
      async () => (await osRequest(server, "GET", `/v2/images/${img.id}`)).body.status === "queued",
    );
    // The image takes a proper upload afterwards.
    const data = Buffer.alloc(256 * 1024, 7);
    const again = await osRequest(server, "PUT", `/v2/images/${img.id}/file`, data, {
      "content-type": "application/octet-stream",
    });
    assert.equal(again.status, 204, again.text);
  });

  test("what the HTTP parser refuses is answered in the dialect the path names, with a request id", async () => {
    const big = "a".repeat(20_000);
    const cases: [string, number, "yandex" | "openstack"][] = [
      ["BREW /compute/v1/images HTTP/1.1\r\nHost: x\r\n\r\n", 400, "yandex"],
      ["GET /v2/images HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", 400, "openstack"],
      [`GET /operations/x HTTP/1.1\r\nHost: x\r\nX-Big: ${big}\r\n\r\n`, 431, "yandex"],
      [`GET /v2/images HTTP/1.1\r\nHost: x\r\nX-Big: ${big}\r\n\r\n`, 431, "openstack"],
      ["GARBAGE\r\n\r\n", 400, "openstack"],
      ["CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 405, "openstack"],
      ["QUERY /v2/images HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 400, "openstack"],
    ];
    for (const [request, status, dialect] of cases) {
      const answer = await rawHttp(server.url, request);
      const label = request.slice(0, 30);
      assert.match(answer, new RegExp(`^HTTP/1\\.1 ${status} `), `${label}: ${answer.slice(0, 200)}`);
      const head = answer.slice(0, answer.indexOf("\r\n\r\n")).toLowerCase();
      if (dialect === "yandex") {
        const id = /x-request-id: ([0-9a-f-]{36})/.exec(head)?.[1];
        assert.ok(id, `${label}: request id`);
        const body = JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4));
        assert.equal(body.code, 3);
        assert.equal(body.details[0].requestId, id);
      } else {
        assert.match(head, /x-openstack-request-id: req-[0-9a-f-]{36}/, label);
        assert.match(answer, new RegExp(`${status} `));
        assert.doesNotMatch(answer, /"statusCode"/, `${label}: not Fastify's default body`);
      }
    }
    // HEAD errors carry the request id too.
    const head = await rawHttp(
      server.url,
      "HEAD /compute/v1/nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert.match(head.toLowerCase(), /x-request-id: [0-9a-f-]{36}/);
    const osHead = await rawHttp(
      server.url,
      "HEAD /v2/nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert.match(osHead.toLowerCase(), /x-openstack-request-id: req-/);
  });

  test("a client that hangs up mid-upload is logged as such, not as an error", async () => {
    const img = await createOsImage(server, { name: "gone", disk_format: "raw", container_format: "bare" });
    const req = http.request(`${server.url}/v2/images/${img.id}/file`, {
      method: "PUT",
      headers: { "x-auth-token": server.token, "content-type": "application/octet-stream" },
    });
    req.on("error", () => {});
    req.write(Buffer.alloc(64 * 1024, 1));
    await eventually(
      async () => (await osRequest(server, "GET", `/v2/images/${img.id}`)).body.status === "saving",
    );
    req.destroy();
    await eventually(
      async () => (await osRequest(server, "GET", `/v2/images/${img.id}`)).body.status === "queued",
    );
    assert.ok(server.logs.some((l) => l.msg === "the client disconnected"));
  });
});
