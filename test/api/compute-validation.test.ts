import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type RunningServer, startServer } from "../helpers/server.js";

/** A valid request that the cases below break one rule at a time. */
const VALID = { folderId: "folder-1", name: "ok-name", uri: "https://storage.example.com/bucket/disk.qcow2" };

const CASES: [string, Record<string, unknown>, string, RegExp][] = [
  ["folderId is required", { folderId: undefined }, "folderId", /is required/],
  ["folderId at most 50", { folderId: "f".repeat(51) }, "folderId", /at most 50/],
  ["name must start with a letter", { name: "1abc" }, "name", /pattern/],
  ["name may not end with a hyphen", { name: "abc-" }, "name", /pattern/],
  ["name has no upper case", { name: "Abc" }, "name", /pattern/],
  ["name at most 63", { name: "a".repeat(64) }, "name", /pattern/],
  ["description at most 256", { description: "d".repeat(257) }, "description", /at most 256/],
  [
    "at most 64 labels",
    { labels: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, "v"])) },
    "labels",
    /at most 64/,
  ],
  ["label key must start with a letter", { labels: { "1key": "v" } }, 'labels key "1key"', /pattern/],
  [
    "label key at most 63",
    { labels: { ["k".repeat(64)]: "v" } },
    `labels key "${"k".repeat(64)}"`,
    /1 to 63/,
  ],
  ["label key not empty", { labels: { "": "v" } }, 'labels key ""', /1 to 63/],
  ["label value charset", { labels: { key: "Value!" } }, "labels.key", /pattern/],
  ["label value has no backslash", { labels: { key: "a\\b" } }, "labels.key", /pattern/],
  ["label value at most 63", { labels: { key: "v".repeat(64) } }, "labels.key", /at most 63/],
  ["family pattern", { family: "ab" }, "family", /pattern/],
  ["family pattern (characters)", { family: "Family" }, "family", /pattern/],
  ["minDiskSize lower bound", { minDiskSize: "4194303" }, "minDiskSize", /between 4194304 and 4398046511104/],
  ["minDiskSize upper bound", { minDiskSize: "4398046511105" }, "minDiskSize", /between/],
  ["minDiskSize is an integer", { minDiskSize: "12abc" }, "minDiskSize", /integer/],
  ["productIds at most 50 each", { productIds: ["p".repeat(51)] }, "productIds[0]", /at most 50/],
  ["os.type LINUX or WINDOWS", { os: { type: "BSD" } }, "os.type", /LINUX or WINDOWS/],
  ["exactly one source: none", { uri: undefined }, "source", /exactly one of/],
  ["exactly one source: two", { imageId: "fd8aaaaaaaaaaaaaaaaa" }, "source", /not imageId and uri/],
  ["imageId at most 50", { uri: undefined, imageId: "i".repeat(51) }, "imageId", /at most 50/],
  ["diskId at most 50", { uri: undefined, diskId: "d".repeat(51) }, "diskId", /at most 50/],
  ["snapshotId at most 50", { uri: undefined, snapshotId: "s".repeat(51) }, "snapshotId", /at most 50/],
  ["uri must be http(s)", { uri: "ftp://example.com/x.qcow2" }, "uri", /scheme ftp is not allowed/],
  ["uri must be a URL", { uri: "not a url" }, "uri", /not a valid URL/],
  ["unknown fields are refused", { colour: "blue" }, "colour", /unknown field/],
  ["wrong type: name is a string", { name: 42 }, "name", /must be string/],
  ["wrong type: labels values are strings", { labels: { a: 1 } }, "labels.a", /must be string/],
];

describe("Compute API: request validation (one failing case per rule)", () => {
  let server: RunningServer;
  before(async () => (server = await startServer()));
  after(async () => void (await server.stop()));

  for (const [title, change, field, description] of CASES) {
    test(title, async () => {
      const body: Record<string, unknown> = { ...VALID, ...change };
      for (const k of Object.keys(body)) if (body[k] === undefined) delete body[k];
      const res = await server.request("POST", "/compute/v1/images", body);
      assert.equal(res.status, 400, res.text);
      assert.equal(res.body.code, 3);
      assert.ok(res.body.message.includes(field), `message names the field ${field}: ${res.body.message}`);
      const violations =
        res.body.details.find((d: any) => d["@type"].endsWith("google.rpc.BadRequest"))?.fieldViolations ??
        [];
      const v = violations.find((x: any) => x.field === field);
      assert.ok(v, `a field violation for ${field}: ${res.text}`);
      assert.match(v.description, description);
    });
  }

  test("valid edge values are accepted: empty name, 63-char name, 64 labels, bounds of minDiskSize", async () => {
    for (const change of [
      { name: "" },
      { name: `a${"-".repeat(61)}b` },
      { labels: Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`k${i}`, ""])) },
      { minDiskSize: "4194304" },
      { minDiskSize: 4398046511104 },
      { os: { type: "WINDOWS" } },
      { family: "abc" },
      { labels: { "a-_./@0z": "-_./@0z" } },
    ]) {
      const res = await server.request("POST", "/compute/v1/images", {
        ...VALID,
        name: undefined,
        ...change,
      });
      assert.equal(res.status, 200, `${JSON.stringify(change)}: ${res.text}`);
    }
  });

  test("several violations are all reported", async () => {
    const res = await server.request("POST", "/compute/v1/images", {
      name: "Bad",
      description: "d".repeat(300),
    });
    assert.equal(res.status, 400);
    const fields = res.body.details[0].fieldViolations.map((v: any) => v.field);
    assert.deepEqual(fields.sort(), ["description", "folderId", "name", "source"]);
  });

  test("malformed JSON is a 400 INVALID_ARGUMENT, not a 500", async () => {
    const res = await server.request("POST", "/compute/v1/images", '{"folderId": ');
    assert.equal(res.status, 400);
    assert.equal(res.body.code, 3);
    assert.match(res.body.message, /not valid JSON/);
  });

  test("a body that is not an object is a 400", async () => {
    for (const body of ["[]", '"text"', "42", "null"]) {
      const res = await server.request("POST", "/compute/v1/images", body);
      assert.equal(res.status, 400, `${body}: ${res.text}`);
      assert.equal(res.body.code, 3);
    }
  });

  test("an oversize body is a 400", async () => {
    const res = await server.request("POST", "/compute/v1/images", {
      ...VALID,
      description: "x".repeat(2 * 1024 * 1024),
    });
    assert.equal(res.status, 400);
    assert.equal(res.body.code, 3);
    assert.match(res.body.message, /too large/);
  });

  test("a wrong Content-Type is a 400", async () => {
    const res = await server.request("POST", "/compute/v1/images", "folderId=x", {
      "content-type": "application/x-www-form-urlencoded",
    });
    assert.equal(res.status, 400);
    assert.equal(res.body.code, 3);
  });

  test("imageId longer than 50 in the path is INVALID_ARGUMENT; an unknown one NOT_FOUND", async () => {
    const long = await server.request("GET", `/compute/v1/images/${"x".repeat(51)}`);
    assert.equal(long.status, 400);
    assert.equal(long.body.code, 3);
    const missing = await server.request("GET", "/compute/v1/images/fd8doesnotexist00000");
    assert.equal(missing.status, 404);
    assert.equal(missing.body.code, 5);
    assert.equal(missing.body.message, "Image fd8doesnotexist00000 not found");
  });

  test("an unknown path under the API is NOT_FOUND in the dialect's format", async () => {
    const res = await server.request("GET", "/compute/v1/nothing-here");
    assert.equal(res.status, 404);
    assert.equal(res.body.code, 5);
  });
});
