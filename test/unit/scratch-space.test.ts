import assert from "node:assert/strict";
import fs from "node:fs";
import { describe, it } from "node:test";
import { ScratchSpace } from "../../src/convert/scratch-space.js";
import { VitrineError } from "../../src/core/errors.js";
import { tempDir } from "../helpers/server.js";

const full = (err: unknown) => err instanceof VitrineError && err.reason === "SCRATCH_FULL";

describe("conversion scratch space", () => {
  it("holds what running conversions may write, against the limit and against the free space", async () => {
    const root = tempDir("scratch");
    const limited = new ScratchSpace(root, 1000);
    const a = await limited.hold("a", 600);
    await assert.rejects(limited.hold("b", 600), full, "600 + 600 is over the limit");
    const b = await limited.hold("b", 400);
    await a.release();
    await (await limited.hold("c", 600)).release();
    await b.release();

    // No limit: the free space is shared the same way (two conversions never count the same bytes).
    const free = fs.statfsSync(root);
    const half = Math.floor((free.bavail * free.bsize) / 2) + 1024 * 1024 * 1024;
    const unlimited = new ScratchSpace(root, 0);
    const first = await unlimited.hold("first", half);
    await assert.rejects(unlimited.hold("second", half), full);
    await first.release();
    assert.deepEqual(fs.readdirSync(root), [], "released directories are gone");
  });
});
