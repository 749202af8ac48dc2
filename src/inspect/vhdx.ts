import { startsWith } from "./bytes.js";
import type { FormatInspector } from "./inspector.js";
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
const BAT_REGION = guid("2DC27766-F623-4200-9D64-115E9BFD4A08");
const FILE_PARAMETERS = guid("CAA16737-FA36-4D43-B3B6-33F0AA44E76B");
const MIB = 1024 * 1024;

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
  blockSize: number | null = null;
  /** The furthest payload or bitmap block the BAT names (its start offset), once read. */
  batMaxOffset: number | null = null;
  private readonly findings: string[] = [];

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
    let metadata = false;
    for (let i = 0; i < count; i++) {
      const e = 16 + i * 32;
      if (e + 32 > t.length) break;
      const regionOffset = Number(t.readBigUInt64LE(e + 16));
      const regionLength = t.readUInt32LE(e + 24);
      if (t.subarray(e, e + 16).equals(METADATA_REGION)) {
        metadata = true;
        this.windows.want(regionOffset, 64 * 1024, (m) => this.metadataTable(m, regionOffset));
      } else if (t.subarray(e, e + 16).equals(BAT_REGION)) {
        this.windows.want(regionOffset, regionLength, (bat) => this.bat(bat));
      }
    }
    if (!metadata) this.findings.push("vhdx: the region table has no metadata region");
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
      const itemOffset = m.readUInt32LE(e + 16);
      const read = (set: (v: Buffer) => void) => {
        if (itemOffset + 8 <= m.length) set(m.subarray(itemOffset, itemOffset + 8));
        else this.windows.want(regionOffset + itemOffset, 8, set);
      };
      const id = m.subarray(e, e + 16);
      if (id.equals(VIRTUAL_DISK_SIZE)) read((v) => (this.virtualSize = Number(v.readBigUInt64LE(0))));
      if (id.equals(FILE_PARAMETERS)) {
        read((v) => {
          this.blockSize = v.readUInt32LE(0);
          // Flags bit 1, HasParent: a differencing disk, whose parent locator names another file.
          if (v.readUInt32LE(4) & 2) {
            this.findings.push(
              "vhdx: a differencing disk (HasParent: it names a parent disk the hypervisor would open)",
            );
          }
        });
      }
    }
    if (this.virtualSize === null && this.windows.unfilled === 0)
      this.findings.push("vhdx: the metadata table has no virtual disk size");
  }

  private bat(bat: Buffer): void {
    let max = -1;
    for (let i = 0; i + 8 <= bat.length; i += 8) {
      const entry = bat.readBigUInt64LE(i);
      const state = Number(entry & 7n);
      // 6: fully present, 7: partially present (payload blocks; bitmap blocks use 6 too).
      if (state === 6 || state === 7) max = Math.max(max, Number(entry >> 20n) * MIB);
    }
    this.batMaxOffset = max < 0 ? null : max;
  }

  /**
   * Every finding, once the whole file was seen: tables that were never reached lie past its end,
   * and so do blocks the BAT names beyond it.
   */
  endFindings(total: number): string[] {
    const findings = [...this.findings];
    if (this.windows.unfilled > 0 || this.windows.missed > 0) {
      findings.push("vhdx: its region or metadata tables lie past the end of the file");
    } else if (this.virtualSize === null && findings.length === 0) {
      findings.push("vhdx: the virtual size could not be read");
    }
    if (this.batMaxOffset !== null && this.batMaxOffset + Math.max(this.blockSize ?? MIB, MIB) > total) {
      findings.push(`vhdx: the block allocation table names data past the end of the file (${total} bytes)`);
    }
    return findings;
  }
}

const VHDX_MAGIC = Buffer.from("vhdxfile", "latin1");

export const vhdxInspector: FormatInspector = {
  format: "vhdx",
  matches: ({ head }) => startsWith(head, 0, VHDX_MAGIC),
  startReader: (head, windows) => (startsWith(head, 0, VHDX_MAGIC) ? new VhdxReader(windows) : null),
  inspect: ({ total }, reader) => {
    if (!reader) return { virtualSize: 0, findings: ["vhdx: the file is shorter than its header"] };
    return { virtualSize: reader.virtualSize ?? 0, findings: reader.endFindings(total) };
  },
};
