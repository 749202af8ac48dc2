import type { DiskFormat, FormatVerdict } from "./format.js";
import { partitionTable } from "./partitions.js";
import { qcow2Findings } from "./qcow2.js";
import { vhdFooterFindings, vhdTruncationFindings } from "./vhd.js";
import { VhdxReader } from "./vhdx.js";
import { vdiFindings } from "./vdi.js";
import { vmdkDescriptorOnlyFindings, vmdkSparseFindings } from "./vmdk.js";
import { Windows } from "./windows.js";

/** How much of the head to keep: the ISO 9660 volume descriptors from 32 KiB, a GPT entry array. */
const HEAD_BYTES = 64 * 1024;
/** VHD keeps its footer in the last 512 bytes (fixed VHDs have nothing else), GPT its backup header. */
const TAIL_BYTES = 512;

const QCOW2_MAGIC = Buffer.from([0x51, 0x46, 0x49, 0xfb]); // "QFI\xfb"
const VMDK_SPARSE_MAGIC = Buffer.from("KDMV", "latin1");
const VMDK_DESCRIPTOR = Buffer.from("# Disk DescriptorFile", "latin1");
const VHDX_MAGIC = Buffer.from("vhdxfile", "latin1");
const VHD_COOKIE = Buffer.from("conectix", "latin1");
const VDI_SIGNATURE = 0xbeda107f;
const ISO_MAGIC = Buffer.from("CD001", "latin1");
const UDF_BEA = Buffer.from("BEA01", "latin1");

export interface SnifferOptions {
  /** The largest virtual size accepted (default 4 TiB, the most a Compute minDiskSize may be). */
  maxVirtualSize?: number;
}

/**
 * Recognises a disk image format while the data streams past, keeping only a bounded head and
 * tail and the windows a format asks for (VHDX metadata). Push every chunk, then ask for the
 * verdict once the stream ended. The verdict names the format, the virtual size, and every
 * safety finding: format-specific rules (qcow2.ts, vmdk.ts, vhd.ts, vdi.ts, vhdx.ts,
 * partitions.ts), data that matches more than one format (a polyglot), and tables or sizes that
 * point past the end of the file (truncation).
 */
export class FormatSniffer {
  private readonly maxVirtualSize: number;
  private head = Buffer.alloc(0);
  private tail = Buffer.alloc(0);
  private total = 0;
  private readonly windows = new Windows();
  private vhdx: VhdxReader | null = null;
  /** The furthest L2 table a qcow2's L1 table points to (its end offset), once read. */
  private qcow2L2End: number | null = null;
  private qcow2L1Asked = false;
  /** The furthest grain table a sparse VMDK's grain directory points to (its end offset). */
  private vmdkGtEnd: number | null = null;
  private vmdkGdAsked = false;

  constructor(options: SnifferOptions = {}) {
    this.maxVirtualSize = options.maxVirtualSize ?? 4 * 1024 ** 4;
  }

  push(chunk: Buffer): void {
    this.total += chunk.length;
    if (this.head.length < HEAD_BYTES) {
      this.head = Buffer.concat([this.head, chunk.subarray(0, HEAD_BYTES - this.head.length)]);
      if (!this.vhdx && startsWith(this.head, 0, VHDX_MAGIC)) this.vhdx = new VhdxReader(this.windows);
      if (!this.qcow2L1Asked && this.head.length >= 48 && startsWith(this.head, 0, QCOW2_MAGIC))
        this.askQcow2L1();
    }
    this.windows.push(chunk);
    if (chunk.length >= TAIL_BYTES) {
      this.tail = Buffer.from(chunk.subarray(chunk.length - TAIL_BYTES));
    } else {
      const joined = Buffer.concat([this.tail, chunk]);
      this.tail = joined.subarray(Math.max(0, joined.length - TAIL_BYTES));
    }
  }

  /** Collects the qcow2 L1 table as it passes, to check that every L2 table it names is in the file. */
  private askQcow2L1(): void {
    this.qcow2L1Asked = true;
    const clusterBits = this.head.readUInt32BE(20);
    const l1Entries = this.head.readUInt32BE(36);
    const l1Offset = Number(this.head.readBigUInt64BE(40));
    if (clusterBits < 9 || clusterBits > 21 || l1Entries === 0) return;
    this.windows.want(l1Offset, l1Entries * 8, (l1) => {
      let end = 0;
      for (let i = 0; i + 8 <= l1.length; i += 8) {
        // Bits 9..55 hold the L2 table's offset; bit 63 is the "copied" flag.
        const offset = Number(l1.readBigUInt64BE(i) & 0x00fffffffffffe00n);
        if (offset !== 0) end = Math.max(end, offset + 2 ** clusterBits);
      }
      this.qcow2L2End = end;
    });
  }

  /** Collects a sparse VMDK's grain directory, to check that every grain table it names is in the file. */
  private askVmdkGd(): void {
    this.vmdkGdAsked = true;
    const h = this.head;
    const capacity = h.readBigUInt64LE(12);
    const grainSize = h.readBigUInt64LE(20);
    const gtEntries = h.readUInt32LE(44);
    const gdOffset = h.readBigUInt64LE(56);
    if (grainSize === 0n || gtEntries === 0 || gdOffset === 0xffffffffffffffffn) return;
    const gdEntries = Number(
      (capacity + grainSize * BigInt(gtEntries) - 1n) / (grainSize * BigInt(gtEntries)),
    );
    this.windows.want(Number(gdOffset) * 512, gdEntries * 4, (gd) => {
      let end = 0;
      for (let i = 0; i + 4 <= gd.length; i += 4) {
        const sector = gd.readUInt32LE(i);
        if (sector !== 0) end = Math.max(end, sector * 512 + gtEntries * 4);
      }
      this.vmdkGtEnd = end;
    });
  }

  get bytesSeen(): number {
    return this.total;
  }

  verdict(): FormatVerdict {
    const matches = this.matchingFormats();
    const primary = matches[0] ?? "raw";
    const { virtualSize, findings } = this.inspect(primary);
    if (matches.length > 1) {
      findings.unshift(
        `polyglot: the data is valid as ${matches.join(" and ")} at once; a reader could take it for either`,
      );
    }
    if (virtualSize > this.maxVirtualSize) {
      findings.push(
        `${primary}: virtual size ${virtualSize} exceeds the limit of ${this.maxVirtualSize} bytes`,
      );
    }
    return { format: primary, virtualSize, findings: [...new Set(findings)] };
  }

  /** Every format whose signature the data carries, most specific first. */
  private matchingFormats(): DiskFormat[] {
    const h = this.head;
    const found: DiskFormat[] = [];
    if (startsWith(h, 0, QCOW2_MAGIC)) found.push("qcow2");
    if (startsWith(h, 0, VMDK_SPARSE_MAGIC) || startsWith(h, 0, VMDK_DESCRIPTOR)) found.push("vmdk");
    if (startsWith(h, 0, VHDX_MAGIC)) found.push("vhdx");
    if (h.length >= 0x48 && h.readUInt32LE(0x40) === VDI_SIGNATURE) found.push("vdi");
    if (this.tail.length === TAIL_BYTES && startsWith(this.tail, 0, VHD_COOKIE)) found.push("vhd");
    if (startsWith(h, 32769, ISO_MAGIC) || isUdf(h)) found.push("iso");
    return found;
  }

  private inspect(format: DiskFormat): { virtualSize: number; findings: string[] } {
    const h = this.head;
    const total = this.total;
    switch (format) {
      case "qcow2": {
        const findings = qcow2Findings(h, total);
        if (this.qcow2L2End !== null && this.qcow2L2End > total)
          findings.push(`qcow2: an L2 table lies past the end of the file (${total} bytes)`);
        return { virtualSize: h.length >= 32 ? Number(h.readBigUInt64BE(24)) : 0, findings };
      }
      case "vmdk":
        if (startsWith(h, 0, VMDK_DESCRIPTOR))
          return { virtualSize: descriptorCapacity(h), findings: vmdkDescriptorOnlyFindings() };
        return {
          virtualSize: h.length >= 20 ? Number(h.readBigUInt64LE(12)) * 512 : 0,
          findings: [
            ...vmdkSparseFindings(h, total),
            ...(this.vmdkGtEnd !== null && this.vmdkGtEnd > total
              ? [`vmdk: a grain table lies past the end of the file (${total} bytes)`]
              : []),
          ],
        };
      case "vhdx": {
        const reader = this.vhdx!;
        const findings = [...reader.findings, ...reader.endFindings(total)];
        if (this.windows.unfilled > 0 || this.windows.missed > 0)
          findings.push("vhdx: its region or metadata tables lie past the end of the file");
        else if (reader.virtualSize === null && findings.length === 0)
          findings.push("vhdx: the virtual size could not be read");
        return { virtualSize: reader.virtualSize ?? 0, findings };
      }
      case "vdi":
        return {
          virtualSize: h.length >= 0x178 ? Number(h.readBigUInt64LE(0x170)) : 0,
          findings: vdiFindings(h, total),
        };
      case "vhd":
        return {
          virtualSize: Number(this.tail.readBigUInt64BE(48)),
          findings: [...vhdFooterFindings(this.tail), ...vhdTruncationFindings(h, this.tail, total)],
        };
      case "iso":
        return {
          virtualSize: total,
          findings: [...isoFindings(h, total), ...partitionTable(h, this.tail, total).findings],
        };
      case "raw":
        return { virtualSize: total, findings: partitionTable(h, this.tail, total).findings };
    }
  }
}

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

function startsWith(buf: Buffer, offset: number, magic: Buffer): boolean {
  return buf.length >= offset + magic.length && buf.subarray(offset, offset + magic.length).equals(magic);
}

/** Sum of the extent sizes (in 512-byte sectors) a text VMDK descriptor declares. */
function descriptorCapacity(head: Buffer): number {
  const text = head.toString("latin1");
  let sectors = 0;
  for (const m of text.matchAll(/^\s*(?:RW|RDONLY|NOACCESS)\s+(\d+)\s/gm)) sectors += Number(m[1]);
  return sectors * 512;
}
