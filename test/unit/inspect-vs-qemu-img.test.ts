import assert from "node:assert/strict";
import fs from "node:fs";
import { describe, test } from "node:test";
import { FormatSniffer } from "../../src/inspect/sniffer.js";
import { ACCEPTED_SUBFORMATS, image, iso, qemuImg } from "../helpers/fixtures.js";

/** Streams a file through the sniffer in uneven chunks, as the network would deliver it. */
function sniff(file: string) {
  const sniffer = new FormatSniffer();
  const data = fs.readFileSync(file);
  for (let offset = 0, i = 0; offset < data.length; i++) {
    const size = [1, 511, 4096, 65537, 300][i % 5]!;
    sniffer.push(data.subarray(offset, offset + size));
    offset += size;
  }
  return sniffer.verdict();
}

const QEMU_NAME: Record<string, string> = { vpc: "vhd" };

describe("inspector vs qemu-img info: format and virtual size", () => {
  for (const [format, options] of [
    ["raw", ""] as const,
    ...ACCEPTED_SUBFORMATS,
    ["vdi", ""] as const,
    ["vdi", "static=on"] as const,
    ["vhdx", ""] as const,
    ["vhdx", "subformat=fixed"] as const,
  ]) {
    test(`${format} ${options}`, () => {
      const fixture = image(format, 24, options);
      // The format is named to qemu-img: its own probe looks only at the start of the file and
      // calls a fixed VHD (footer at the end only) raw, where the inspector sees the footer.
      const info = JSON.parse(qemuImg("info", "--output=json", "-f", format, fixture.path)) as {
        "virtual-size": number;
      };
      const verdict = sniff(fixture.path);
      assert.equal(verdict.format, QEMU_NAME[format] ?? format);
      assert.equal(verdict.virtualSize, info["virtual-size"]);
      assert.deepEqual(verdict.findings, []);
    });
  }

  test("iso (genisoimage)", () => {
    const fixture = iso("sizes");
    const verdict = sniff(fixture.path);
    assert.equal(verdict.format, "iso");
    assert.equal(verdict.virtualSize, fs.statSync(fixture.path).size);
  });
});
