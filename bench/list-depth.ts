/**
 * List cost at depth: seeds 100,000 images into one folder, then times (over HTTP) the first page
 * of 100 and a page 90,000 rows deep, in each supported order. Keyset pagination should make them
 * cost the same. Run: `npm run bench:list-depth`.
 */
import Database from "better-sqlite3";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { CLI, apiRequest, startServer, tempDir } from "../test/helpers/server.js";

const dataDir = tempDir("scale");
let server = await startServer({ dataDir });
await server.stop();
const db = new Database(path.join(dataDir, "vitrine.sqlite"));
const insert =
  db.prepare(`insert into images (id, uuid, kind, folder_id, name, status, created_at, updated_at, min_disk_size, size)
  values (?, ?, 'compute', 'big', ?, 'active', ?, ?, 1073741824, 1000)`);
const t0 = Date.now();
db.transaction(() => {
  for (let i = 0; i < 100_000; i++) {
    const id = "a" + i.toString(36).padStart(19, "0");
    insert.run(id, crypto.randomUUID(), `img-${i}`, 1_700_000_000_000 + i, 1_700_000_000_000 + i);
  }
})();
db.close();
console.log(`seeded 100000 images in ${Date.now() - t0} ms`);
server = await startServer({ dataDir, env: {} });
/** p50 and p99 of `n` sequential GETs of `url` with `token` (the admin's by default). */
async function time(url: string, token = server.token, n = 200): Promise<{ p50: number; p99: number }> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    const r = await apiRequest(server.url, token, "GET", url);
    if (r.status !== 200) throw new Error(r.text);
    samples.push(performance.now() - s);
  }
  samples.sort((a, b) => a - b);
  return { p50: samples[Math.floor(n * 0.5)]!, p99: samples[Math.floor(n * 0.99)]! };
}
for (const order of ["", "&orderBy=name%20asc", "&orderBy=createdAt%20desc"]) {
  let token = "";
  for (let i = 0; i < 90; i++) {
    const r = await server.request(
      "GET",
      `/compute/v1/images?folderId=big&pageSize=1000${order}${token ? `&pageToken=${token}` : ""}`,
    );
    token = r.body.nextPageToken;
  }
  const first = await time(`/compute/v1/images?folderId=big&pageSize=100${order}`);
  const deep = await time(`/compute/v1/images?folderId=big&pageSize=100${order}&pageToken=${token}`);
  console.log(
    `order=${order || "id"}: first page p50 ${first.p50.toFixed(2)} ms p99 ${first.p99.toFixed(2)} ms; page at 90,000 p50 ${deep.p50.toFixed(2)} ms p99 ${deep.p99.toFixed(2)} ms`,
  );
}
// The OpenStack list: cross-folder scope (admin: everything; a project token: own + public +
// accepted shares), Glance's default order (created_at desc) and name order, marker pages.
const projectSubject = execFileSync(process.execPath, [
  CLI,
  "subject",
  "create",
  "--name",
  "b",
  "--data-dir",
  dataDir,
])
  .toString()
  .trim();
execFileSync(process.execPath, [
  CLI,
  "folder",
  "bind",
  "--folder",
  "big",
  "--subject",
  projectSubject,
  "--role",
  "viewer",
  "--data-dir",
  dataDir,
]);
const projectToken = execFileSync(process.execPath, [
  CLI,
  "token",
  "create",
  "--subject",
  projectSubject,
  "--project",
  "big",
  "--data-dir",
  dataDir,
])
  .toString()
  .trim();
for (const [who, token] of [
  ["admin", server.token],
  ["project", projectToken],
] as const) {
  for (const sort of ["", "&sort=name:asc"]) {
    let next = `/v2/images?limit=1000${sort}`;
    for (let i = 0; i < 90; i++) {
      const r = await apiRequest(server.url, token, "GET", next);
      next = r.body.next;
    }
    const deepUrl = next.replace("limit=1000", "limit=100");
    const first = await time(`/v2/images?limit=100${sort}`, token);
    const deep = await time(deepUrl, token);
    console.log(
      `openstack ${who} sort=${sort || "created_at desc"}: first page p50 ${first.p50.toFixed(2)} ms p99 ${first.p99.toFixed(2)} ms; page at 90,000 p50 ${deep.p50.toFixed(2)} ms p99 ${deep.p99.toFixed(2)} ms`,
    );
  }
}
await server.stop();
