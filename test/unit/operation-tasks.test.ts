import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodeTask } from "../../src/storage/meta/operation-tasks.js";

/** Operations queued by an earlier release carry their payloads in the old shapes. */
describe("stored operation tasks", () => {
  it("reads a typed task as stored", () => {
    const task = { type: "delete", blobKey: "b1" };
    assert.deepEqual(decodeTask("image.delete", JSON.stringify(task)), task);
  });

  it("gives a deferred update stored without its rules BareMetal's, the one dialect that deferred", () => {
    const change = { set: { description: "d" } };
    assert.deepEqual(decodeTask("image.update", JSON.stringify({ type: "update", change })), {
      type: "update",
      change,
      rules: { uniqueName: true, minDiskCoversData: false },
    });
  });

  it("reads the first releases' payloads as the tasks they meant", () => {
    const source = { type: "uri", uri: "https://example.com/x.qcow2" };
    const inherit = { osType: true, productIds: false, minDiskSize: true };
    assert.deepEqual(
      decodeTask("image.create", JSON.stringify({ source, allowedFormats: ["qcow2"], inherit })),
      {
        type: "create",
        source,
        allowedFormats: ["qcow2"],
        inherit,
        formats: "detected",
        onFailure: "kill",
      },
    );
    const imported = decodeTask(
      "image.create",
      JSON.stringify({ source, allowedFormats: ["raw"], inherit, openstackImport: { store: "fs" } }),
    );
    assert.equal(imported.type === "create" && imported.onFailure, "requeue");
    assert.equal(imported.type === "create" && imported.formats, "declared");
    assert.deepEqual(imported.type === "create" && imported.properties?.failed, {
      os_glance_importing_to_stores: "",
      os_glance_failed_import: "fs",
    });
    assert.deepEqual(decodeTask("image.update", JSON.stringify({ patch: { name: "n" } })), {
      type: "update",
      change: { set: { name: "n" } },
      rules: { uniqueName: true, minDiskCoversData: false },
    });
    assert.deepEqual(decodeTask("image.delete", JSON.stringify({ blobKey: null })), {
      type: "delete",
      blobKey: null,
    });
    assert.deepEqual(decodeTask("image.setAccessBindings", "{}"), { type: "none" });
  });
});
