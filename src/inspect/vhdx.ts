import type { Windows } from "./windows.js";

/**
 * VHDX (MS-VHDX): the virtual size is a metadata item, found through the region table at 192 KiB
 * and the metadata table at the start of the metadata region. Both are collected as windows
 * while the data streams past, so no second read is needed.
 */
const REGION_TABLE_OFFSET = 192 * 1024;
const REGION_TABLE_BYTES = 64 * 1024;
const METADATA_REGION = guid("8B7CA206-4790-4B9A-B8FE-575F050F886E");
const VIRTUAL_DISK_SIZE = guid("2FA54224-CD1B-4876-B211-5DBED83BF4B8");

/** GUIDs are stored with their first three fields little-endian. */
function guid(text: string): Buffer {
  const hex = text.replace(/-/g, "");
  const b = Buffer.from(hex, "hex");
  b.subarray(0, 4).reverse();
  b.subarray(4, 6).reverse();
  b.subarray(6, 8).reverse();
  return b;
}

export class VhdxReader {
  virtualSize: number | null = null;
  readonly findings: string[] = [];

  constructor(private readonly windows: Windows) {
    windows.want(REGION_TABLE_OFFSET, REGION_TABLE_BYTES, (t) => this.regionTable(t));
  }

  private regionTable(t: Buffer): void {
    if (t.toString("latin1", 0, 4) !== "regi") {
      this.findings.push("vhdx: the region table is missing or corrupt");
      return;
    }
    const count = t.readUInt32LE(8);
    if (count > 2047) {
      this.findings.push(`vhdx: the region table claims ${count} entries`);
      return;
    }
    for (let i = 0; i < count; i++) {
      const e = 16 + i * 32;
      if (t.subarray(e, e + 16).equals(METADATA_REGION)) {
        const regionOffset = Number(t.readBigUInt64LE(e + 16));
        this.windows.want(regionOffset, 64 * 1024, (m) => this.metadataTable(m, regionOffset));
        return;
      }
    }
    this.findings.push("vhdx: the region table has no metadata region");
  }

  private metadataTable(m: Buffer, regionOffset: number): void {
    if (m.toString("latin1", 0, 8) !== "metadata") {
      this.findings.push("vhdx: the metadata table is missing or corrupt");
      return;
    }
    const count = Math.min(m.readUInt16LE(10), 2047);
    for (let i = 0; i < count; i++) {
      const e = 32 + i * 32;
      if (e + 32 > m.length) break;
      if (m.subarray(e, e + 16).equals(VIRTUAL_DISK_SIZE)) {
        const itemOffset = m.readUInt32LE(e + 16);
        if (itemOffset + 8 <= m.length) this.virtualSize = Number(m.readBigUInt64LE(itemOffset));
        else
          this.windows.want(
            regionOffset + itemOffset,
            8,
            (v) => (this.virtualSize = Number(v.readBigUInt64LE(0))),
          );
        return;
      }
    }
    this.findings.push("vhdx: the metadata table has no virtual disk size");
  }
}
