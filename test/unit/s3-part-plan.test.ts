import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_PART_PLAN, MAX_PARTS, partSize } from "../../src/storage/blob/s3-part-plan.js";

const MIB = 1024 ** 2;
const GIB = 1024 ** 3;
const TIB = 1024 ** 4;

describe("S3 part plan", () => {
  it("fits 4 TiB in 10,000 parts within S3's part sizes, small images in small parts", () => {
    let total = 0;
    for (let n = 1; n <= MAX_PARTS; n++) {
      const size = partSize(DEFAULT_PART_PLAN, n);
      assert.ok(size >= 5 * MIB && size <= 5 * GIB, `part ${n}: ${size}`);
      assert.ok(n === 1 || size >= partSize(DEFAULT_PART_PLAN, n - 1), "parts never shrink");
      total += size;
      if (total < 31 * GIB) assert.equal(size, 16 * MIB, "an image under 31 GiB uses 16 MiB parts");
    }
    assert.ok(total >= 4 * TIB, `10,000 parts hold ${(total / TIB).toFixed(2)} TiB`);
  });
});
