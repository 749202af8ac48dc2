import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { toChange as computeChange } from "../../src/api/compute/rules.js";
import { toChange as bareMetalChange } from "../../src/api/baremetal/rules.js";
import { parseRange } from "../../src/api/openstack/data-routes.js";
import { parseListQuery } from "../../src/api/openstack/listing.js";
import { parsePatch, patchToChange } from "../../src/api/openstack/patch.js";
import { parseFilter, parseOrderBy, parsePageSize } from "../../src/api/yandex/listing.js";
import { VitrineError } from "../../src/core/errors.js";
import { decodePageToken, encodePageToken } from "../../src/core/page-token.js";

const V21 = "application/openstack-images-v2.1-json-patch";
const V20 = "application/openstack-images-v2.0-json-patch";

function violation(field: string) {
  return (err: unknown) => {
    assert.ok(err instanceof VitrineError, String(err));
    assert.equal(err.code, "INVALID_ARGUMENT");
    assert.ok(
      err.violations.some((v) => v.field === field) || err.message.includes(field),
      `${field} not named in ${err.message}`,
    );
    return true;
  };
}

describe("page tokens", () => {
  it("round-trip a cursor and refuse another query's or a tampered token", () => {
    const token = encodePageToken("q1", { id: "abc", value: "name-1" });
    assert.deepEqual(decodePageToken(token, "q1"), { id: "abc", value: "name-1" });
    assert.deepEqual(decodePageToken(encodePageToken("q1", { id: "x", value: 17.5 }), "q1"), {
      id: "x",
      value: 17.5,
    });
    assert.throws(() => decodePageToken(token, "q2"), violation("pageToken"));
    assert.throws(() => decodePageToken(`${token.slice(0, -2)}!!`, "q1"), violation("pageToken"));
  });

  it("stay within 100 characters, leaving out a sort value too long to carry", () => {
    const token = encodePageToken("q", { id: "a".repeat(20), value: "n".repeat(300) });
    assert.ok(token.length <= 100);
    assert.deepEqual(decodePageToken(token, "q"), { id: "a".repeat(20) });
  });
});

describe("Yandex list parameters", () => {
  it("parse filters with quoting, IN lists and AND", () => {
    assert.deepEqual(parseFilter(`name = "a \\"b\\"" AND status IN ('READY', "ERROR")`, ["=", "IN"]), [
      { field: "name", op: "=", values: ['a "b"'] },
      { field: "status", op: "IN", values: ["READY", "ERROR"] },
    ]);
    assert.deepEqual(parseFilter("name:'ub'", [":"]), [{ field: "name", op: ":", values: ["ub"] }]);
    assert.throws(() => parseFilter("name = unquoted", ["="]), violation("filter"));
    assert.throws(() => parseFilter("name != 'x'", ["="]), violation("filter"));
    assert.throws(() => parseFilter("name = 'x' OR id = 'y'", ["="]), violation("filter"));
  });

  it("parse orderBy and page sizes", () => {
    const fields = { name: "name", createdAt: "created_at", created_at: "created_at" } as const;
    assert.deepEqual(parseOrderBy("createdAt desc", fields, { field: "name", dir: "asc" }), {
      field: "created_at",
      dir: "desc",
    });
    assert.deepEqual(parseOrderBy(undefined, fields, { field: "name", dir: "asc" }), {
      field: "name",
      dir: "asc",
    });
    assert.throws(() => parseOrderBy("size", fields, { field: "name", dir: "asc" }), violation("orderBy"));
    assert.equal(parsePageSize("0", 100), 100);
    assert.equal(parsePageSize("7", 100), 7);
    assert.throws(() => parsePageSize("1001", 100), violation("pageSize"));
  });
});

describe("Compute and BareMetal updates as declared changes", () => {
  it("Compute: a mask sets what the body names and resets what it leaves out", () => {
    assert.deepEqual(computeChange({ updateMask: "name,minDiskSize", name: "web" }), {
      set: { name: "web" },
      reset: ["minDiskSize"],
    });
    assert.deepEqual(computeChange({ description: "d", minDiskSize: "8589934592" }), {
      set: { name: "", description: "d", labels: {}, minDiskSize: 8589934592 },
      reset: [],
    });
    assert.throws(() => computeChange({ updateMask: "family" }), violation("updateMask"));
    assert.throws(() => computeChange({ name: "Bad Name" }), violation("name"));
  });

  it("BareMetal: without a mask only the fields present change", () => {
    assert.deepEqual(bareMetalChange({ description: "iso" }), { set: { description: "iso" } });
    assert.deepEqual(bareMetalChange({ updateMask: "labels" }), { set: { labels: {} } });
    assert.throws(() => bareMetalChange({ updateMask: "name" }), violation("name"));
  });
});

describe("OpenStack request parsing", () => {
  it("reads both patch media types into the same operations", () => {
    const v21 = parsePatch([{ op: "replace", path: "/name", value: "x" }], V21);
    const v20 = parsePatch([{ replace: "/name", value: "x" }], V20);
    assert.deepEqual(v21, v20);
    assert.throws(() => parsePatch({ op: "add" }, V21), /JSON array/);
    assert.throws(() => parsePatch([{ op: "move", path: "/name" }], V21), /Invalid operation/);
    assert.throws(() => parsePatch([{ op: "add", path: "/a/b", value: 1 }], V21), /Invalid JSON pointer/);
  });

  it("turns a patch into the change it declares, Glance's rules on top", () => {
    const change = patchToChange(
      parsePatch(
        [
          { op: "add", path: "/new", value: "v" },
          { op: "remove", path: "/p" },
          { op: "replace", path: "/q", value: "w" },
          { op: "add", path: "/later", value: "1" },
          { op: "remove", path: "/later" },
          { op: "replace", path: "/min_disk", value: 2 },
          { op: "add", path: "/tags", value: ["b", "b"] },
        ],
        V21,
      ),
    );
    assert.deepEqual(change, {
      set: { minDiskSize: 2 * 1024 ** 3, tags: ["b"] },
      properties: { set: { new: "v", q: "w" }, remove: ["p", "later"], mustExist: ["p", "q"] },
    });
    const os = patchToChange(
      parsePatch([{ op: "add", path: "/__os_version", value: "Windows Server 2019 Standard 64bit" }], V21),
    );
    assert.equal(os.properties?.set?.__os_type, "Windows");
    const twice = [
      { op: "remove", path: "/gone" },
      { op: "remove", path: "/gone" },
    ];
    assert.throws(() => patchToChange(parsePatch(twice, V21)), /does not exist/);
    assert.throws(() => patchToChange(parsePatch([{ op: "remove", path: "/name" }], V21)), /base attribute/);
    assert.throws(
      () => patchToChange(parsePatch([{ op: "add", path: "/status", value: "active" }], V21)),
      /read-only/,
    );
    assert.throws(
      () => patchToChange(parsePatch([{ op: "add", path: "/os_glance_x", value: "v" }], V21)),
      /reserved/,
    );
    assert.throws(
      () => patchToChange(parsePatch([{ op: "replace", path: "/min_ram", value: "big" }], V21)),
      /does not match schema/,
    );
  });

  it("reads list filters, sorts and markers into a core search", () => {
    const q = parseListQuery({
      status: "active",
      tag: ["a", "b"],
      size_min: "10",
      created_at: "gte:2024-01-01T00:00:00Z",
      sort: "name:asc,size:desc",
      limit: "5",
      marker: "m1",
      __os_type: "Linux",
      visibility: "shared",
      member_status: "all",
    });
    assert.deepEqual(q.tags, ["a", "b"]);
    assert.deepEqual(q.properties, [{ name: "__os_type", value: "Linux" }]);
    assert.deepEqual(q.sort, [
      { key: "name", dir: "asc" },
      { key: "size", dir: "desc" },
    ]);
    assert.equal(q.limit, 5);
    assert.equal(q.marker, "m1");
    assert.equal(q.visibility, "shared");
    assert.equal(q.memberStatus, "all");
    assert.deepEqual(
      q.conditions.find((c) => c.column === "status"),
      { column: "status", op: "in", values: ["active", "updating"] },
    );
    assert.throws(() => parseListQuery({ status: "bogus" }), /Invalid status/);
  });

  it("reads one byte range, ignoring what it cannot serve", () => {
    assert.deepEqual(parseRange("bytes=0-9"), { start: 0, end: 9 });
    assert.deepEqual(parseRange("bytes=5-"), { start: 5, end: null });
    assert.deepEqual(parseRange("bytes=-3"), { suffix: 3 });
    assert.equal(parseRange("bytes=9-2"), null);
    assert.equal(parseRange("bytes=0-1,4-5"), null);
    assert.equal(parseRange(undefined), null);
  });
});
