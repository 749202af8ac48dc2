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
