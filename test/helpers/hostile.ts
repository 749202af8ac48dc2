import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { image, iso, rawDisk } from "./fixtures.js";
import { tempDir } from "./server.js";

/**
 * Hostile files, crafted on purpose from honest ones made by qemu-img, genisoimage and sfdisk:
 * each breaks one safety rule of the inspector.
 */
const dir = tempDir("hostile");

/** Copies a real image and overwrites bytes of it. */
export function patched(source: string, name: string, patches: [number, Buffer][]): string {
  const file = path.join(dir, name);
  fs.copyFileSync(source, file);
  const fd = fs.openSync(file, "r+");
  for (const [offset, bytes] of patches) fs.writeSync(fd, bytes, 0, bytes.length, offset);
  fs.closeSync(fd);
  return file;
}

/** The first `keep` bytes of a real image (a download cut short), optionally with its last `tail` bytes appended. */
export function truncated(source: string, name: string, keep: number, tail = 0): string {
  const data = fs.readFileSync(source);
  const file = path.join(dir, name);
  fs.writeFileSync(file, Buffer.concat([data.subarray(0, keep), data.subarray(data.length - tail)]));
  return file;
}

export const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
export const u64 = (n: bigint): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(n);
  return b;
};

/** A raw disk with a partition table written by sfdisk (`script` is sfdisk's input). */
export function partitioned(name: string, label: "gpt" | "dos", mib = 16): string {
  const file = path.join(dir, `${name}.raw`);
  fs.copyFileSync(rawDisk(`part-${mib}`, mib), file);
  execFileSync("sfdisk", ["--quiet", file], { input: `label: ${label}\n,8MiB\n,\n` });
  return file;
}

/** An ISO with an MBR in its system area, as hybrid (USB-bootable) ISOs carry. */
export function hybridIso(): string {
  const file = path.join(dir, "hybrid.iso");
  fs.copyFileSync(iso("hybrid").path, file);
  execFileSync("sfdisk", ["--quiet", file], { input: "label: dos\n,,0x17,*\n" });
  return file;
}

/** A qcow2 that is also an ISO 9660 volume: the ISO signature written into its header cluster. */
export function qcow2IsoPolyglot(): string {
  return patched(image("qcow2", 8).path, "polyglot.qcow2", [[32768, Buffer.from("\x01CD001\x01", "latin1")]]);
}

/** Byte offset of the GPT header's CRC field. */
export const GPT_HEADER_CRC = 512 + 16;

/** A qcow2 whose first sector is also a valid MBR with one partition (a header-and-table polyglot). */
export function qcow2MbrPolyglot(): string {
  const table = Buffer.alloc(66); // four entries, then the boot signature
  table[0] = 0x80; // bootable
  table[4] = 0x83; // Linux
  table.writeUInt32LE(2048, 8);
  table.writeUInt32LE(8192, 12);
  table.set([0x55, 0xaa], 64);
  return patched(image("qcow2", 8).path, "mbr-polyglot.qcow2", [[446, table]]);
}

/** A dynamic VHD re-typed as a differencing disk (disk type 4), both footer copies and checksums. */
export function vhdDifferencing(): string {
  const data = Buffer.from(fs.readFileSync(image("vpc", 8).path));
  for (const at of [0, data.length - 512]) {
    const footer = data.subarray(at, at + 512);
    footer.writeUInt32BE(4, 60);
    let sum = 0;
    for (let i = 0; i < 512; i++) if (i < 64 || i >= 68) sum += footer[i]!;
    footer.writeUInt32BE(~sum >>> 0, 64);
  }
  const file = path.join(dir, "differencing.vhd");
  fs.writeFileSync(file, data);
  return file;
}

/** GUIDs as VHDX stores them: the first three fields little-endian. */
function vhdxGuid(text: string): Buffer {
  const b = Buffer.from(text.replace(/-/g, ""), "hex");
  b.subarray(0, 4).reverse();
  b.subarray(4, 6).reverse();
  b.subarray(6, 8).reverse();
  return b;
}

/** A VHDX whose File Parameters say HasParent (a differencing disk), found through its region and metadata tables. */
export function vhdxWithParent(): string {
  const data = Buffer.from(fs.readFileSync(image("vhdx", 8).path));
  const regions = 192 * 1024;
  const metadataRegion = vhdxGuid("8B7CA206-4790-4B9A-B8FE-575F050F886E");
  const fileParameters = vhdxGuid("CAA16737-FA36-4D43-B3B6-33F0AA44E76B");
  let metadataAt = -1;
  for (let i = 0; i < data.readUInt32LE(regions + 8); i++) {
    const e = regions + 16 + i * 32;
    if (data.subarray(e, e + 16).equals(metadataRegion)) metadataAt = Number(data.readBigUInt64LE(e + 16));
  }
  for (let i = 0; i < data.readUInt16LE(metadataAt + 10); i++) {
    const e = metadataAt + 32 + i * 32;
    if (data.subarray(e, e + 16).equals(fileParameters)) {
      const item = metadataAt + data.readUInt32LE(e + 16);
      data.writeUInt32LE(data.readUInt32LE(item + 4) | 2, item + 4);
    }
  }
  const file = path.join(dir, "differencing.vhdx");
  fs.writeFileSync(file, data);
  return file;
}

/** A qcow2 (version 3) with the corrupt bit (incompatible feature bit 1) set. */
export function qcow2Corrupt(): string {
  const data = fs.readFileSync(image("qcow2", 8).path);
  const features = Buffer.from(data.subarray(72, 80));
  features[7] = features[7]! | 0b10;
  return patched(image("qcow2", 8).path, "corrupt.qcow2", [[72, features]]);
}

/**
 * A streamOptimized VMDK (qemu-img) rewritten the way VMware exports them: the header's grain
 * directory offset "at the end", and a footer after the data (footer marker, header copy with
 * the real offset, end-of-stream marker). "disagrees": the footer claims another capacity;
 * "missing": no footer at all.
 */
export function vmdkWithFooter(kind: "honest" | "disagrees" | "missing"): string {
  const data = Buffer.from(fs.readFileSync(image("vmdk", 8, "subformat=streamOptimized").path));
  const header = Buffer.from(data.subarray(0, 512));
  const gdAtEnd = Buffer.alloc(8, 0xff);
  gdAtEnd.copy(data, 56);
  const marker = Buffer.alloc(512);
  marker.writeBigUInt64LE(1n, 0);
  marker.writeUInt32LE(3, 12); // MARKER_FOOTER
  const footer = Buffer.from(header);
  if (kind === "disagrees") footer.writeBigUInt64LE(footer.readBigUInt64LE(12) * 4n, 12);
  const parts = kind === "missing" ? [data] : [data, marker, footer, Buffer.alloc(512)];
  const file = path.join(dir, `footer-${kind}.vmdk`);
  fs.writeFileSync(file, Buffer.concat(parts));
  return file;
}

/**
 * A raw disk formatted as a FAT16 "superfloppy": a volume boot record at sector 0 (jump, OEM
 * name, BIOS parameter block, boot code, 0x55AA) and no partition table.
 */
export function fatSuperfloppy(): string {
  const file = path.join(dir, "superfloppy.raw");
  fs.copyFileSync(rawDisk("fat-16", 16), file);
  const vbr = Buffer.alloc(512);
  vbr.set([0xeb, 0x3c, 0x90], 0);
  vbr.write("MSDOS5.0", 3, "latin1");
  vbr.writeUInt16LE(512, 11); // bytes per sector
  vbr[13] = 4; // sectors per cluster
  vbr.writeUInt16LE(1, 14); // reserved sectors
  vbr[16] = 2; // FATs
  vbr.writeUInt16LE(512, 17); // root entries
  vbr.writeUInt16LE(32768, 19); // sectors
  vbr[21] = 0xf8; // media: fixed disk
  vbr.write("NO NAME    FAT16   ", 43, "latin1");
  // Boot code where an MBR keeps its entries: bytes no partition table would have.
  for (let i = 62; i < 510; i++) vbr[i] = (i * 37) & 0xff;
  vbr[510] = 0x55;
  vbr[511] = 0xaa;
  const fd = fs.openSync(file, "r+");
  fs.writeSync(fd, vbr, 0, 512, 0);
  fs.closeSync(fd);
  return file;
}
