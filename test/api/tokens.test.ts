import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { after, before, describe, test } from "node:test";
import { osRequest, vitrineCli } from "../helpers/openstack.js";
import { type RunningServer, apiRequest, startServer } from "../helpers/server.js";

describe("subjects and tokens", () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer({
      env: {
        VITRINE_AUTH_FAILURE_BURST: "3",
        VITRINE_AUTH_FAILURE_WINDOW_SECONDS: "2",
        VITRINE_TOKEN_CACHE_SECONDS: "1",
      },
    });
  });
  after(async () => server?.stop());

  test("a token is printed once, stored only as a hash, and is 401 once revoked (within the cache time)", async () => {
    const subject = vitrineCli(server, "subject", "create", "--name", "robot", "--type", "serviceAccount");
    assert.match(subject, /^[a-z][a-z0-9]{19}$/);
    vitrineCli(server, "folder", "bind", "--folder", "robots", "--subject", subject, "--role", "viewer");
    const token = vitrineCli(server, "token", "create", "--subject", subject, "--project", "robots");
    const list = (t: string) => apiRequest(server.url, t, "GET", "/compute/v1/images?folderId=robots");
    assert.equal((await list(token)).status, 200);

    const db = new Database(path.join(server.dataDir, "vitrine.sqlite"), { readonly: true });
    const dump = JSON.stringify(db.prepare("select * from tokens").all());
    db.close();
    assert.ok(!dump.includes(token) && !dump.includes(token.slice(4)), "the token itself is not stored");
    assert.ok(!fs.readFileSync(path.join(server.dataDir, "vitrine.sqlite")).includes(token));

    vitrineCli(server, "token", "revoke", token);
    // A checked token is trusted for VITRINE_TOKEN_CACHE_SECONDS (1 here) without a database read.
    await new Promise((r) => setTimeout(r, 1100));
    const revoked = await list(token);
    assert.equal(revoked.status, 401);
    assert.equal(revoked.body.code, 16);
    assert.throws(() => vitrineCli(server, "token", "revoke", token), /No such active token/);
  });

  test("an expired token is 401 in every dialect", async () => {
    const subject = vitrineCli(server, "subject", "create", "--name", "brief");
    vitrineCli(server, "folder", "bind", "--folder", "brief", "--subject", subject, "--role", "editor");
    const token = vitrineCli(
      server,
      "token",
      "create",
      "--subject",
      subject,
      "--project",
      "brief",
      "--ttl",
      "1s",
    );
    assert.equal((await osRequest(server, "GET", "/v2/images", undefined, {}, token)).status, 200);
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal((await osRequest(server, "GET", "/v2/images", undefined, {}, token)).status, 401);
    assert.equal(
      (await apiRequest(server.url, token, "GET", "/compute/v1/images?folderId=brief")).status,
      401,
    );
    assert.throws(
      () => vitrineCli(server, "token", "create", "--subject", subject, "--ttl", "soon"),
      /--ttl/,
    );
  });

  test("failed authentications from one address are answered 429 past the burst, then allowed again", async () => {
    const good = server.token;
    await new Promise((r) => setTimeout(r, 2100)); // the failures of the tests above age out
    for (let i = 0; i < 3; i++) {
      assert.equal(
        (await apiRequest(server.url, `vt1.guess-${i}`, "GET", "/compute/v1/images?folderId=x")).status,
        401,
      );
    }
    const limited = await apiRequest(server.url, "vt1.guess-3", "GET", "/compute/v1/images?folderId=x");
    assert.equal(limited.status, 429, limited.text);
    assert.equal(limited.body.code, 8);
    assert.ok(Number(limited.headers.get("retry-after")) >= 1);
    // Every dialect refuses the address, good credentials included, until the window ends.
    const os = await osRequest(server, "GET", "/v2/images", undefined, {}, good);
    assert.equal(os.status, 429, os.text);
    assert.equal(os.body.code, "429 Too Many Requests");
    assert.ok(os.headers.get("retry-after"));
    assert.equal((await apiRequest(server.url, good, "GET", "/compute/v1/images?folderId=x")).status, 429);

    await new Promise((r) => setTimeout(r, 2100));
    assert.equal((await apiRequest(server.url, good, "GET", "/compute/v1/images?folderId=x")).status, 200);
  });
});
