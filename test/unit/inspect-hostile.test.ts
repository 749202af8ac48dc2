import assert from "node:assert/strict";
import fs from "node:fs";
import { describe, test } from "node:test";
import { FormatSniffer } from "../../src/inspect/sniffer.js";
import { image, iso } from "../helpers/fixtures.js";
import {
  GPT_HEADER_CRC,
  fatSuperfloppy,
  hybridIso,
  qcow2Corrupt,
  qcow2MbrPolyglot,
  vhdDifferencing,
  vhdxWithParent,
  vmdkWithFooter,
  partitioned,
  patched,
  qcow2IsoPolyglot,
  truncated,
} from "../helpers/hostile.js";

function sniff(file: string) {
  const sniffer = new FormatSniffer();
  const data = fs.readFileSync(file);
  for (let offset = 0; offset < data.length; offset += 65521)
    sniffer.push(data.subarray(offset, offset + 65521));
  return sniffer.verdict();
}

function assertRefused(file: string, reason: RegExp): void {
  const verdict = sniff(file);
  assert.ok(
    verdict.findings.some((f) => reason.test(f)),
    `${file}: ${JSON.stringify(verdict)}`,
  );
}

function assertAccepted(file: string, format: string): void {
  const verdict = sniff(file);
  assert.equal(verdict.format, format);
  assert.deepEqual(verdict.findings, []);
}

describe("inspector: partition tables, polyglots, truncation", () => {
  test("honest GPT and MBR disks, and a hybrid ISO with an MBR, are accepted", () => {
    assertAccepted(partitioned("gpt-ok", "gpt"), "raw");
    assertAccepted(partitioned("mbr-ok", "dos"), "raw");
    assertAccepted(hybridIso(), "iso");
  });

  test("a GPT whose header CRC does not match is refused, unless its backup header is sound", () => {
    const disk = partitioned("gpt-crc", "gpt");
    const data = fs.readFileSync(disk);
    const flipped = (offset: number) => {
      const b = Buffer.alloc(4);
      b.writeUInt32LE((data.readUInt32LE(offset) ^ 0xff) >>> 0);
      return b;
    };
    const backupCrc = data.length - 512 + 16;
    // Firmware and sgdisk recover from the backup: an honest disk with a damaged primary.
    assertAccepted(patched(disk, "gpt-bad-primary.raw", [[GPT_HEADER_CRC, flipped(GPT_HEADER_CRC)]]), "raw");
    assertRefused(
      patched(disk, "gpt-bad-both.raw", [
        [GPT_HEADER_CRC, flipped(GPT_HEADER_CRC)],
        [backupCrc, flipped(backupCrc)],
      ]),
      /gpt: the header CRC does not match \(and no sound backup header\)/,
    );
  });

  test("partition tables pointing past the end of the file are refused", () => {
    assertRefused(
      truncated(partitioned("gpt-cut", "gpt"), "gpt-cut.raw", 4 * 1024 * 1024),
      /gpt: .*past the end/,
    );
    assertRefused(
      truncated(partitioned("mbr-cut", "dos"), "mbr-cut.raw", 4 * 1024 * 1024),
      /mbr: partition 1 .*past the end/,
    );
  });

  test("data valid as two formats at once (qcow2 + ISO 9660) is refused as a polyglot", () => {
    const verdict = sniff(qcow2IsoPolyglot());
    assert.equal(verdict.format, "qcow2");
    assert.match(verdict.findings[0] ?? "", /polyglot: .*qcow2 and iso/);
  });

  test("truncated images of every format are refused", () => {
    const cut = (format: string, options: string, keep: number, tail = 0) =>
      truncated(image(format, 24, options).path, `cut-${format}-${options.length}-${keep}`, keep, tail);
    assertRefused(
      cut("qcow2", "", 200_000),
      /qcow2: (the L1 table|the refcount table|an L2 table) .*past the end/,
    );
    assertRefused(
      cut("vmdk", "", 10_000),
      /vmdk: (the grain directory|a grain table|the metadata) .*(past the end|truncated)/,
    );
    assertRefused(cut("vpc", "subformat=fixed", 1024 * 1024, 512), /vhd: a fixed disk .* \(truncated\)/);
    assertRefused(cut("vpc", "", 1024, 512), /vhd: the (block allocation table|dynamic disk header)/);
    assertRefused(cut("vdi", "static=on", 1024 * 1024), /vdi: allocated blocks .*past the end/);
    assertRefused(cut("vhdx", "", 200 * 1024), /vhdx: .*past the end/);
    const disc = iso("cut");
    assertRefused(truncated(disc.path, "cut.iso", 40 * 1024), /iso: the volume is .* \(truncated\)/);
  });

  test("second-level tables named past the end of the file are refused (qcow2 L2, VMDK grain table)", () => {
    const vmdk = image("vmdk", 8).path;
    const gdSector = Number(fs.readFileSync(vmdk).readBigUInt64LE(56));
    const far = Buffer.alloc(4);
    far.writeUInt32LE(100_000);
    assertRefused(
      patched(vmdk, "gt-far.vmdk", [[gdSector * 512, far]]),
      /vmdk: a grain table lies past the end/,
    );
    const qcow2 = image("qcow2", 8).path;
    const l1Offset = Number(fs.readFileSync(qcow2).readBigUInt64BE(40));
    const farL2 = Buffer.alloc(8);
    farL2.writeBigUInt64BE((1n << 63n) | (1n << 40n));
    assertRefused(
      patched(qcow2, "l2-far.qcow2", [[l1Offset, farL2]]),
      /qcow2: an L2 table lies past the end/,
    );
  });

  test("decisions: a qcow2 that is also an MBR, differencing VHD and VHDX, a corrupt qcow2 are refused", () => {
    assertRefused(qcow2MbrPolyglot(), /polyglot: .*qcow2 and as a raw disk with an MBR partition table/);
    assertRefused(vhdDifferencing(), /vhd: a differencing disk/);
    assertRefused(vhdxWithParent(), /vhdx: a differencing disk \(HasParent/);
    assertRefused(qcow2Corrupt(), /qcow2: the image is marked corrupt/);
  });

  test("decisions: a streamOptimized VMDK with its grain directory at the end is read from its footer", () => {
    assertAccepted(vmdkWithFooter("honest"), "vmdk");
    assertRefused(vmdkWithFooter("disagrees"), /vmdk: the footer disagrees with the header/);
    assertRefused(vmdkWithFooter("missing"), /vmdk: the footer is missing/);
  });

  test("decisions: a raw disk that starts with a FAT boot record (no partition table) is accepted", () => {
    assertAccepted(fatSuperfloppy(), "raw");
  });

  test("a virtual size beyond the configured limit is refused for any format", () => {
    const sniffer = new FormatSniffer({ maxVirtualSize: 1024 * 1024 });
    sniffer.push(fs.readFileSync(image("vhdx", 8).path));
    assert.match(
      sniffer.verdict().findings.join(),
      /vhdx: virtual size 8388608 exceeds the limit of 1048576/,
    );
  });
});
