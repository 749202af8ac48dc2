import { startsWith } from "./bytes.js";
import type { FormatInspector } from "./inspector.js";
/**
 * VHD footer check (Microsoft VHD specification, "Hard Disk Footer Format"): the checksum at
 * offset 64 is the one's complement of the byte sum of the footer without that field. A footer
 * that fails it is corrupt, or was forged onto data that is something else.
 */
export function vhdFooterFindings(footer: Buffer): string[] {
  let sum = 0;
  for (let i = 0; i < 512; i++) if (i < 64 || i >= 68) sum += footer[i]!;
  const expected = ~sum >>> 0;
  const stored = footer.readUInt32BE(64);
  return stored === expected
    ? []
    : [`vhd: footer checksum 0x${stored.toString(16)} does not match 0x${expected.toString(16)}`];
}

const FIXED_DISK = 2;
const DIFFERENCING_DISK = 4;
const NO_DATA_OFFSET = 0xffffffffffffffffn;

/**
 * A fixed VHD holds its whole virtual size before the footer; a dynamic one points to a header
 * whose block allocation table must fit in the file. Less than that is a truncated image.
 */
export function vhdTruncationFindings(head: Buffer, footer: Buffer, total: number): string[] {
  const virtualSize = footer.readBigUInt64BE(48);
  const diskType = footer.readUInt32BE(60);
  // A differencing disk's parent locators name a parent image: the hypervisor would open it.
  if (diskType === DIFFERENCING_DISK)
    return ["vhd: a differencing disk (it names a parent disk the hypervisor would open)"];
  if (diskType === FIXED_DISK) {
    return BigInt(total - 512) < virtualSize
      ? [`vhd: a fixed disk of ${virtualSize} bytes in a file of ${total} (truncated)`]
      : [];
  }
  // Readers take a dynamic disk's footer from its copy at the start: it must be the same.
  if (head.length < 512 || !head.subarray(0, 512).equals(footer))
    return ["vhd: the footer copy at the start of the dynamic disk differs from the footer"];
  const dataOffset = footer.readBigUInt64BE(16);
  if (dataOffset === NO_DATA_OFFSET) return ["vhd: a dynamic disk without a header offset"];
  const at = Number(dataOffset);
  if (at + 1024 > total) return ["vhd: the dynamic disk header lies past the end of the file"];
  if (at + 1024 > head.length || head.toString("latin1", at, at + 8) !== "cxsparse") {
    return ["vhd: the dynamic disk header is missing"];
  }
  const header = head.subarray(at, at + 1024);
  let sum = 0;
  for (let i = 0; i < 1024; i++) if (i < 36 || i >= 40) sum += header[i]!;
  if (header.readUInt32BE(36) !== ~sum >>> 0) return ["vhd: the dynamic disk header checksum does not match"];
  const batOffset = head.readBigUInt64BE(at + 16);
  const batEntries = BigInt(head.readUInt32BE(at + 28));
  return batOffset + batEntries * 4n > BigInt(total)
    ? ["vhd: the block allocation table lies past the end of the file"]
    : [];
}

const VHD_COOKIE = Buffer.from("conectix", "latin1");
/** VHD keeps its footer in the last 512 bytes (fixed VHDs have nothing else). */
const FOOTER_BYTES = 512;

export const vhdInspector: FormatInspector = {
  format: "vhd",
  matches: ({ tail }) => tail.length === FOOTER_BYTES && startsWith(tail, 0, VHD_COOKIE),
  inspect: ({ head, tail, total }) => ({
    virtualSize: Number(tail.readBigUInt64BE(48)),
    findings: [...vhdFooterFindings(tail), ...vhdTruncationFindings(head, tail, total)],
  }),
};
