import assert from "node:assert/strict";
import fs from "node:fs";
import { describe, test } from "node:test";
import { FormatSniffer } from "../../src/inspect/sniffer.js";
import { ACCEPTED_SUBFORMATS, image, iso } from "../helpers/fixtures.js";
import {
  hybridIso,
  partitioned,
  qcow2Corrupt,
  qcow2MbrPolyglot,
  truncated,
  vhdxWithParent,
  vmdkWithFooter,
} from "../helpers/hostile.js";

/**
 * A resumable upload's inspection is saved at a checkpoint and restored in another process: the
 * verdict after a restore must be the one a single pass gives, wherever the stream was cut.
 */
function pushAll(sniffer: FormatSniffer, data: Buffer, from: number, to: number): void {
  for (let offset = from, i = 0; offset < to; i++) {
    const size = Math.min([1, 511, 4096, 65537, 300, 1 << 20][i % 6]!, to - offset);
    sniffer.push(data.subarray(offset, offset + size));
    offset += size;
  }
}

function cutPoints(length: number): number[] {
  const points = [0, 1, 511, 512, 4096, 65535, 65536, 65537, 200_000, 1 << 20, (1 << 20) + 3];
  for (let i = 1; i < 8; i++) points.push(Math.floor((length * i) / 8));
  points.push(length - 1537, length - 512, length - 1, length);
  return [...new Set(points.filter((p) => p >= 0 && p <= length))];
}

function checkEveryCut(file: string): void {
  const data = fs.readFileSync(file);
  const whole = new FormatSniffer();
  pushAll(whole, data, 0, data.length);
  const expected = whole.verdict();
  for (const cut of cutPoints(data.length)) {
    const first = new FormatSniffer({ snapshots: true });
    pushAll(first, data, 0, cut);
    // Through a copy, as the checkpoint stores it: nothing may share memory with the first sniffer.
    const snapshot = first.snapshot();
    const stored = {
      total: snapshot.total,
      ranges: snapshot.ranges.map((r) => ({ offset: r.offset, data: Buffer.from(r.data) })),
    };
    const resumed = FormatSniffer.restore(stored);
    pushAll(resumed, data, cut, data.length);
    assert.deepEqual(resumed.verdict(), expected, `cut at ${cut} of ${data.length}`);
    // A second restore from a snapshot taken after the restore (a second interruption).
    const again = FormatSniffer.restore(FormatSniffer.restore(stored).snapshot());
    pushAll(again, data, cut, data.length);
    assert.deepEqual(again.verdict(), expected, `cut twice at ${cut}`);
  }
}

describe("inspection snapshot and restore give the single pass's verdict", () => {
  for (const [format, options] of [
    ["raw", ""] as const,
    ...ACCEPTED_SUBFORMATS,
    ["vhdx", ""] as const,
    ["vdi", ""] as const,
  ]) {
    test(`${format} ${options}`, () => checkEveryCut(image(format, 24, options).path));
  }
  test("iso", () => checkEveryCut(iso("snapshot").path));
  test("hostile: corrupt qcow2, polyglots, truncation, parents, VMDK footers, partitions", () => {
    for (const file of [
      qcow2Corrupt(),
      qcow2MbrPolyglot(),
      hybridIso(),
      vhdxWithParent(),
      vmdkWithFooter("disagrees"),
      vmdkWithFooter("missing"),
      partitioned("snapshot-gpt", "gpt"),
      truncated(image("qcow2", 24).path, "snapshot-truncated", 200_000),
    ])
      checkEveryCut(file);
  });
});
