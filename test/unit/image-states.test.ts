import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { VitrineError } from "../../src/core/errors.js";
import { canTransition, hasData, isReceiving, transition } from "../../src/core/image-states.js";
import { type ImageStatus, newQueuedImage } from "../../src/core/image.js";

const image = (status: ImageStatus) => ({ ...newQueuedImage({ kind: "compute", folderId: "f" }, 0), status });

describe("the image state machine", () => {
  it("moves an image only along the table", () => {
    assert.equal(transition(image("queued"), "saving").status, "saving");
    assert.equal(transition(image("active"), "deactivated", { name: "n" }).name, "n");
    assert.throws(
      () => transition(image("killed"), "active"),
      (err: unknown) =>
        err instanceof VitrineError && err.reason === "TRANSITION_NOT_ALLOWED" && err.args.from === "killed",
    );
    assert.equal(canTransition("active", "active"), true);
    assert.equal(canTransition("deleting", "active"), false);
    assert.equal(canTransition("uploading", "importing"), true);
  });

  it("names what a status means instead of comparing statuses", () => {
    assert.deepEqual(
      (["queued", "saving", "importing", "active", "updating", "deactivated", "killed"] as const).map((s) => [
        s,
        hasData(image(s)),
        isReceiving(image(s)),
      ]),
      [
        ["queued", false, false],
        ["saving", false, true],
        ["importing", false, true],
        ["active", true, false],
        ["updating", true, false],
        ["deactivated", true, false],
        ["killed", false, false],
      ],
    );
  });
});
