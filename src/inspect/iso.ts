import { startsWith } from "./bytes.js";
import type { FormatInspector } from "./inspector.js";
import { partitionTable } from "./partitions.js";

const ISO_MAGIC = Buffer.from("CD001", "latin1");
const UDF_BEA = Buffer.from("BEA01", "latin1");

/** ISO 9660 and UDF images (what servers boot); a partition table inside (a hybrid ISO) is checked too. */
export const isoInspector: FormatInspector = {
  format: "iso",
  matches: ({ head }) => startsWith(head, 32769, ISO_MAGIC) || isUdf(head),
  inspect: ({ head, tail, total }) => ({
    virtualSize: total,
    findings: [...isoFindings(head, total), ...partitionTable(head, tail, total).findings],
  }),
};

/** ISO 9660: the primary volume descriptor's volume size must fit in the file. */
function isoFindings(head: Buffer, total: number): string[] {
  if (!startsWith(head, 32769, ISO_MAGIC) || head.length < 32768 + 132) return [];
  const blocks = head.readUInt32LE(32768 + 80);
  const blockSize = head.readUInt16LE(32768 + 128);
  const size = blocks * blockSize;
  return size > total ? [`iso: the volume is ${size} bytes but the file has ${total} (truncated)`] : [];
}

/**
 * UDF (ECMA-167): a volume recognition sequence from 32 KiB, in 2 KiB descriptors, that opens with
 * BEA01 and names an NSR02/NSR03 descriptor before TEA01.
 */
function isUdf(head: Buffer): boolean {
  if (!startsWith(head, 32769, UDF_BEA)) return false;
  for (let offset = 32768 + 2048; offset + 6 <= head.length; offset += 2048) {
    const id = head.subarray(offset + 1, offset + 6).toString("latin1");
    if (id === "NSR02" || id === "NSR03") return true;
    if (id === "TEA01") return false;
  }
  return false;
}
