import type { DiskFormat, FormatVerdict } from "../core/disk-format.js";
import { partitionTable } from "./partitions.js";
import { Qcow2L1Reader, qcow2Findings } from "./qcow2.js";
import { vhdFooterFindings, vhdTruncationFindings } from "./vhd.js";
import { VhdxReader } from "./vhdx.js";
import { vdiFindings } from "./vdi.js";
import { VmdkGrainDirectoryReader, vmdkDescriptorOnlyFindings, vmdkSparseFindings } from "./vmdk.js";
import { Windows } from "./windows.js";

/** How much of the head to keep: the ISO 9660 volume descriptors from 32 KiB, a GPT entry array. */
const HEAD_BYTES = 64 * 1024;
/** Table readers start once the head holds this much: every header they read fits, every table is further on. */
const READERS_START = 512;
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
  /**
   * Readers of tables a format points to, started once the head holds the header: they ask for
   * windows further on and report at the end what lies past the end of the file.
   */
  private readers: {
    qcow2?: Qcow2L1Reader;
    vmdk?: VmdkGrainDirectoryReader;
    vhdx?: VhdxReader;
  } | null = null;

  constructor(options: SnifferOptions = {}) {
    this.maxVirtualSize = options.maxVirtualSize ?? 4 * 1024 ** 4;
  }

  push(chunk: Buffer): void {
    this.total += chunk.length;
    if (this.head.length < HEAD_BYTES) {
      this.head = Buffer.concat([this.head, chunk.subarray(0, HEAD_BYTES - this.head.length)]);
      if (!this.readers && this.head.length >= READERS_START) this.readers = this.startReaders(this.head);
    }
    this.windows.push(chunk);
    if (chunk.length >= TAIL_BYTES) {
      this.tail = Buffer.from(chunk.subarray(chunk.length - TAIL_BYTES));
    } else {
      const joined = Buffer.concat([this.tail, chunk]);
      this.tail = joined.subarray(Math.max(0, joined.length - TAIL_BYTES));
    }
  }

  private startReaders(h: Buffer): NonNullable<FormatSniffer["readers"]> {
    if (startsWith(h, 0, QCOW2_MAGIC)) return { qcow2: new Qcow2L1Reader(h, this.windows) };
    if (startsWith(h, 0, VMDK_SPARSE_MAGIC)) return { vmdk: new VmdkGrainDirectoryReader(h, this.windows) };
    if (startsWith(h, 0, VHDX_MAGIC)) return { vhdx: new VhdxReader(this.windows) };
    return {};
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
      case "qcow2":
        return {
          virtualSize: h.length >= 32 ? Number(h.readBigUInt64BE(24)) : 0,
          findings: [...qcow2Findings(h, total), ...(this.readers?.qcow2?.endFindings(total) ?? [])],
        };
      case "vmdk":
        if (startsWith(h, 0, VMDK_DESCRIPTOR))
          return { virtualSize: descriptorCapacity(h), findings: vmdkDescriptorOnlyFindings() };
        return {
          virtualSize: h.length >= 20 ? Number(h.readBigUInt64LE(12)) * 512 : 0,
          findings: [...vmdkSparseFindings(h, total), ...(this.readers?.vmdk?.endFindings(total) ?? [])],
        };
      case "vhdx": {
        const reader = this.readers?.vhdx;
        if (!reader) return { virtualSize: 0, findings: ["vhdx: the file is shorter than its header"] };
        return { virtualSize: reader.virtualSize ?? 0, findings: reader.endFindings(total) };
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
