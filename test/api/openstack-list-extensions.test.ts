import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type FileServer, startFileServer } from "../helpers/file-server.js";
import { image } from "../helpers/fixtures.js";
import { type InProcessHttp, creation, member, settled, startInProcessHttp } from "../helpers/in-process.js";

/**
 * Vitrine's extensions of `GET /v2/images` (the console's filters): a name by substring, and
 * what only the Yandex dialects know — kind, family, one label. Glance's own parameters keep
 * their meaning; unknown ones still filter custom properties.
 */
describe("the OpenStack list's extensions", () => {
  let env: InProcessHttp;
  let files: FileServer;
  let token: string;

  before(async () => {
    env = await startInProcessHttp();
    files = await startFileServer();
    token = await env.token("lena", "f1", "editor");
    const uri = files.serve("list.qcow2", image("qcow2", 8).path);
    const alice = member("lena", "f1", "editor");
    for (const [name, family, labels] of [
      ["Web-Frontend", "web", { env: "prod", team: "site" }],
      ["web-backend", "web", { env: "dev" }],
      ["database", "db", { env: "prod" }],
    ] as const) {
      const op = await env.core.images.create(
        alice,
        creation(uri, { name: name.toLowerCase(), family, labels }),
      );
      assert.equal((await settled(env.core, alice, op)).error, null);
    }
  });
  after(async () => {
    await env.close();
    await files.close();
  });

  const names = async (query: string) => {
    const res = await env.call(token, "GET", `/v2/images?owner=f1&sort_key=name&sort_dir=asc&${query}`);
    assert.equal(res.statusCode, 200, res.body);
    return (res.json().images as { name: string }[]).map((i) => i.name);
  };

  it("finds names by substring in any case; a plain name is still an exact match", async () => {
    assert.deepEqual(await names("name=contains:END"), ["web-backend", "web-frontend"]);
    assert.deepEqual(await names("name=contains:"), ["database", "web-backend", "web-frontend"]);
    assert.deepEqual(await names("name=web"), []);
  });

  it("filters by kind, family and one label", async () => {
    assert.deepEqual(await names("x_vitrine_kind=compute"), ["database", "web-backend", "web-frontend"]);
    assert.deepEqual(await names("x_vitrine_kind=baremetal"), []);
    assert.deepEqual(await names("x_vitrine_family=web"), ["web-backend", "web-frontend"]);
    assert.deepEqual(await names("x_vitrine_label=env%3Dprod"), ["database", "web-frontend"]);
    assert.deepEqual(await names("x_vitrine_label=env%3Dprod&x_vitrine_family=web"), ["web-frontend"]);
    assert.deepEqual(await names("x_vitrine_label=env%3Dpro"), [], "a label value is whole, not a prefix");
  });

  it("refuses a malformed extension value in Glance's shape", async () => {
    const kind = await env.call(token, "GET", "/v2/images?x_vitrine_kind=vm");
    assert.equal(kind.statusCode, 400);
    assert.match(kind.json().message, /x_vitrine_kind/);
    const label = await env.call(token, "GET", "/v2/images?x_vitrine_label=nokey");
    assert.equal(label.statusCode, 400);
  });
});
