import type { FormatVerdict } from "./format.js";
import { qcow2Findings } from "./qcow2.js";
import { vhdFooterFindings } from "./vhd.js";
import { vmdkDescriptorOnlyFindings, vmdkSparseFindings } from "./vmdk.js";

/** How much of the head to keep: enough for the ISO 9660 volume descriptor at 32 KiB. */
const HEAD_BYTES = 64 * 1024;
/** VHD keeps its footer in the last 512 bytes (fixed VHDs have nothing else). */
const TAIL_BYTES = 512;

const QCOW2_MAGIC = Buffer.from([0x51, 0x46, 0x49, 0xfb]); // "QFI\xfb"
const VMDK_SPARSE_MAGIC = Buffer.from("KDMV", "latin1");
const VMDK_DESCRIPTOR = Buffer.from("# Disk DescriptorFile", "latin1");
const VHDX_MAGIC = Buffer.from("vhdxfile", "latin1");
const VHD_COOKIE = Buffer.from("conectix", "latin1");
const VDI_SIGNATURE = 0xbeda107f;
const ISO_MAGIC = Buffer.from("CD001", "latin1");
const UDF_BEA = Buffer.from("BEA01", "latin1");

/**
 * Recognises a disk image format from its magic bytes while the data streams past, keeping only
 * a bounded head and tail. Push every chunk, then ask for the verdict once the stream ended.
 */
export class FormatSniffer {
  /** The largest virtual size accepted: 4 TiB, the most a Compute minDiskSize may be. */
  constructor(private readonly maxVirtualSize = 4 * 1024 ** 4) {}

  private head = Buffer.alloc(0);
  private tail = Buffer.alloc(0);
  private total = 0;

  push(chunk: Buffer): void {
    this.total += chunk.length;
    if (this.head.length < HEAD_BYTES) {
      this.head = Buffer.concat([this.head, chunk.subarray(0, HEAD_BYTES - this.head.length)]);
    }
    if (chunk.length >= TAIL_BYTES) {
      this.tail = Buffer.from(chunk.subarray(chunk.length - TAIL_BYTES));
    } else {
      const joined = Buffer.concat([this.tail, chunk]);
      this.tail = joined.subarray(Math.max(0, joined.length - TAIL_BYTES));
    }
  }

  get bytesSeen(): number {
    return this.total;
  }

  verdict(): FormatVerdict {
    const h = this.head;
    if (startsWith(h, 0, QCOW2_MAGIC) && h.length >= 32) {
      return {
        format: "qcow2",
        virtualSize: Number(h.readBigUInt64BE(24)),
        findings: qcow2Findings(h, this.maxVirtualSize),
      };
    }
    if (startsWith(h, 0, VMDK_SPARSE_MAGIC) && h.length >= 20) {
      return {
        format: "vmdk",
        virtualSize: Number(h.readBigUInt64LE(12)) * 512,
        findings: vmdkSparseFindings(h),
      };
    }
    if (startsWith(h, 0, VMDK_DESCRIPTOR)) {
      return { format: "vmdk", virtualSize: descriptorCapacity(h), findings: vmdkDescriptorOnlyFindings() };
    }
    if (startsWith(h, 0, VHDX_MAGIC)) {
      return { format: "vhdx", virtualSize: 0, findings: [] };
    }
    if (this.tail.length === TAIL_BYTES && startsWith(this.tail, 0, VHD_COOKIE)) {
      return {
        format: "vhd",
        virtualSize: Number(this.tail.readBigUInt64BE(48)),
        findings: vhdFooterFindings(this.tail),
      };
    }
    if (h.length >= 0x48 && h.readUInt32LE(0x40) === VDI_SIGNATURE) {
      return {
        format: "vdi",
        virtualSize: h.length >= 0x178 ? Number(h.readBigUInt64LE(0x170)) : 0,
        findings: [],
      };
    }
    if (startsWith(h, 32769, ISO_MAGIC) || isUdf(h)) {
      return { format: "iso", virtualSize: this.total, findings: [] };
    }
    return { format: "raw", virtualSize: this.total, findings: [] };
  }
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
