import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { deploymentConflicts } from "../../src/deployment/deployment-check.js";
import { networkFilesystemName } from "../../src/deployment/network-filesystem.js";

const node = {
  id: "self",
  hostname: "h1",
  machineId: "boot-1",
  pid: 1,
  role: "all",
  blobStore: "s3://b/",
  startedAt: 0,
  seenAt: 0,
};

describe("deployment check", () => {
  it("PostgreSQL with one blob store takes nodes from any machine", () => {
    const others = [{ ...node, id: "o", machineId: "boot-2" }];
    assert.deepEqual(deploymentConflicts({ ...node, catalog: "postgres" }, others), []);
  });

  it("SQLite takes the processes of one machine only", () => {
    const sameMachine = [{ ...node, id: "o", hostname: "container-2" }];
    assert.deepEqual(deploymentConflicts({ ...node, catalog: "sqlite" }, sameMachine), []);
    const other = [{ ...node, id: "o", machineId: "boot-2" }];
    assert.equal(deploymentConflicts({ ...node, catalog: "sqlite" }, other).length, 1);
  });

  it("every node of a catalog writes to the same blob store", () => {
    const other = [{ ...node, id: "o", blobStore: "directory:abc" }];
    assert.match(
      deploymentConflicts({ ...node, catalog: "postgres" }, other)[0]!,
      /stores image bytes in directory:abc/,
    );
  });

  it("names network file systems by their statfs type, local ones not", () => {
    assert.equal(networkFilesystemName(0x6969), "NFS");
    assert.equal(networkFilesystemName(0xff534d42 | 0), "CIFS", "a type read as a negative int32");
    assert.equal(networkFilesystemName(0xef53), null, "ext4");
    assert.equal(networkFilesystemName(0x01021994), null, "tmpfs");
  });
});
