import { startsWith } from "./bytes.js";
import type { FormatInspector } from "./inspector.js";
import type { Windows } from "./windows.js";

/**
 * Safety rules for qcow2 headers (QEMU's docs/interop/qcow2.txt). A qcow2 image can make the
 * hypervisor open other files — a backing file, or an external data file — which is how a
 * crafted image reads host files (OSSA-2024-001). Refused outright:
 * - a backing file (non-zero backing_file_offset);
 * - an external data file (incompatible bit 2, autoclear bit 1 `data_file_raw`, or the
 *   data-file-name header extension);
 * - incompatible feature bits this inspector does not know (their meaning could be anything);
 * - the corrupt bit (incompatible bit 1): QEMU found metadata it could not trust and will only
 *   open the image read-only, so it cannot boot a VM; refused like Glance's own corrupt images;
 * - header values no honest image has (cluster_bits outside 9..21, an L1 table larger than the
 *   virtual size needs);
 * - tables that lie past the end of the file (a truncated or forged image).
 * (The virtual size limit applies to every format; the sniffer checks it.)
 */
const KNOWN_INCOMPATIBLE = 0b11111n; // dirty, corrupt, external data, compression type, extended L2
const INCOMPATIBLE_CORRUPT = 1n << 1n;
const INCOMPATIBLE_DATA_FILE = 1n << 2n;
const AUTOCLEAR_DATA_FILE_RAW = 1n << 1n;
const EXT_END = 0x00000000;
const EXT_DATA_FILE_NAME = 0x44415441;

export function qcow2Findings(head: Buffer, total: number): string[] {
  const findings: string[] = [];
  if (head.length < 72) return ["qcow2: the header is truncated"];
  const version = head.readUInt32BE(4);
  if (version !== 2 && version !== 3) return [`qcow2: unsupported version ${version}`];
  if (head.readBigUInt64BE(8) !== 0n)
    findings.push("qcow2: the image has a backing file (it would make the hypervisor open another file)");
  const clusterBits = head.readUInt32BE(20);
  if (clusterBits < 9 || clusterBits > 21)
    findings.push(`qcow2: cluster_bits ${clusterBits} is outside 9..21`);
  const size = head.readBigUInt64BE(24);
  const l1Offset = head.readBigUInt64BE(40);
  const l1Bytes = BigInt(head.readUInt32BE(36)) * 8n;
  if (l1Offset + l1Bytes > BigInt(total))
    findings.push(`qcow2: the L1 table (at ${l1Offset}) lies past the end of the file (${total} bytes)`);
  const refcountOffset = head.readBigUInt64BE(48);
  const refcountClusters = BigInt(head.readUInt32BE(56));
  if (clusterBits >= 9 && clusterBits <= 21) {
    const clusterSize = 1n << BigInt(clusterBits);
    if (l1Offset % clusterSize !== 0n || refcountOffset % clusterSize !== 0n)
      findings.push("qcow2: a table offset is not aligned to the cluster size");
    if (refcountClusters === 0n || refcountOffset + refcountClusters * clusterSize > BigInt(total))
      findings.push(
        `qcow2: the refcount table (at ${refcountOffset}) lies past the end of the file (${total} bytes)`,
      );
  }
  if (clusterBits >= 9 && clusterBits <= 21) {
    const clusterSize = 1n << BigInt(clusterBits);
    const bytesPerL1Entry = clusterSize * (clusterSize / 8n);
    const needed = (size + bytesPerL1Entry - 1n) / bytesPerL1Entry;
    const l1Size = BigInt(head.readUInt32BE(36));
    if (l1Size > needed + 1n && l1Size > 1n)
      findings.push(`qcow2: L1 table of ${l1Size} entries is larger than the virtual size needs (${needed})`);
    if (l1Size < needed)
      findings.push(
        `qcow2: L1 table of ${l1Size} entries is too small for the virtual size (needs ${needed})`,
      );
  }
  let extensionsAt = 72;
  if (version === 3) {
    if (head.length < 104) return [...findings, "qcow2: the version 3 header is truncated"];
    const incompatible = head.readBigUInt64BE(72);
    const autoclear = head.readBigUInt64BE(88);
    if (incompatible & INCOMPATIBLE_DATA_FILE || autoclear & AUTOCLEAR_DATA_FILE_RAW) {
      findings.push(
        "qcow2: the image uses an external data file (it would make the hypervisor open another file)",
      );
    }
    if (incompatible & INCOMPATIBLE_CORRUPT)
      findings.push("qcow2: the image is marked corrupt (QEMU would open it read-only only)");
    const unknown = incompatible & ~KNOWN_INCOMPATIBLE;
    if (unknown) findings.push(`qcow2: unknown incompatible feature bits 0x${unknown.toString(16)}`);
    extensionsAt = head.readUInt32BE(100);
    if (extensionsAt < 104) return [...findings, `qcow2: header_length ${extensionsAt} is too small`];
  }
  // Header extensions: (type u32, length u32, data padded to 8 bytes) until the end marker.
  for (let offset = extensionsAt, count = 0; ; count++) {
    if (offset + 8 > head.length || count > 64) {
      findings.push("qcow2: the header extensions do not end within the inspected header");
      break;
    }
    const type = head.readUInt32BE(offset);
    const length = head.readUInt32BE(offset + 4);
    if (type === EXT_END) break;
    if (type === EXT_DATA_FILE_NAME) findings.push("qcow2: the header names an external data file");
    offset += 8 + Math.ceil(length / 8) * 8;
    if (clusterBits <= 21 && offset > 2 ** clusterBits) {
      findings.push("qcow2: a header extension runs past the header cluster");
      break;
    }
  }
  return [...new Set(findings)];
}

/**
 * Collects the L1 table as it streams past (a window), to check at the end that every L2 table
 * it names lies inside the file.
 */
export class Qcow2L1Reader {
  private l2End: number | null = null;

  constructor(head: Buffer, windows: Windows) {
    const clusterBits = head.readUInt32BE(20);
    const l1Entries = head.readUInt32BE(36);
    const l1Offset = Number(head.readBigUInt64BE(40));
    if (clusterBits < 9 || clusterBits > 21 || l1Entries === 0) return;
    windows.want(l1Offset, l1Entries * 8, (l1) => {
      let end = 0;
      for (let i = 0; i + 8 <= l1.length; i += 8) {
        // Bits 9..55 hold the L2 table's offset; bit 63 is the "copied" flag.
        const offset = Number(l1.readBigUInt64BE(i) & 0x00fffffffffffe00n);
        if (offset !== 0) end = Math.max(end, offset + 2 ** clusterBits);
      }
      this.l2End = end;
    });
  }

  endFindings(total: number): string[] {
    return this.l2End !== null && this.l2End > total
      ? [`qcow2: an L2 table lies past the end of the file (${total} bytes)`]
      : [];
  }
}

const QCOW2_MAGIC = Buffer.from([0x51, 0x46, 0x49, 0xfb]); // "QFI\xfb"

export const qcow2Inspector: FormatInspector = {
  format: "qcow2",
  matches: ({ head }) => startsWith(head, 0, QCOW2_MAGIC),
  startReader: (head, windows) =>
    startsWith(head, 0, QCOW2_MAGIC) ? new Qcow2L1Reader(head, windows) : null,
  inspect: ({ head, total }, reader) => ({
    virtualSize: head.length >= 32 ? Number(head.readBigUInt64BE(24)) : 0,
    findings: [...qcow2Findings(head, total), ...(reader?.endFindings(total) ?? [])],
  }),
};
