import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { tempDir } from "./server.js";

/**
 * Image fixtures generated at test time by qemu-img (never committed blobs). Each has a little
 * data written into it so formats do not degenerate to all-zero files.
 */
export interface Fixture {
  path: string;
  size: number;
  md5: string;
  sha512: string;
  virtualSize: number;
}

const dir = tempDir("fixtures");
const cache = new Map<string, Fixture>();

export function qemuImg(...args: string[]): string {
  return execFileSync("qemu-img", args, { encoding: "utf8" });
}

/** A raw disk with recognisable content: `mib` MiB, first MiB random-ish. */
export function rawDisk(name: string, mib: number): string {
  const file = path.join(dir, `${name}.raw`);
  if (!fs.existsSync(file)) {
    qemuImg("create", "-f", "raw", file, `${mib}M`);
    const fd = fs.openSync(file, "r+");
    const chunk = createHash("sha512").update(name).digest();
    const data = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < data.length; i += chunk.length) chunk.copy(data, i);
    fs.writeSync(fd, data, 0, data.length, 0);
    fs.closeSync(fd);
  }
  return file;
}

/** `format` is a qemu-img output format (qcow2, vmdk, vpc, vhdx, vdi, raw); options like subformat=fixed. */
export function image(format: string, mib = 8, options = ""): Fixture {
  const key = `${format}-${mib}-${options}`;
  const existing = cache.get(key);
  if (existing) return existing;
  const source = rawDisk(`src-${mib}`, mib);
  const file = path.join(dir, `${key.replace(/[^a-z0-9-]/gi, "_")}.${format}`);
  const args = ["convert", "-f", "raw", "-O", format];
  if (options) args.push("-o", options);
  qemuImg(...args, source, file);
  const info = JSON.parse(qemuImg("info", "--output=json", "-f", format, file)) as { "virtual-size": number };
  const fixture = describeFile(file, info["virtual-size"]);
  cache.set(key, fixture);
  return fixture;
}

export function describeFile(file: string, virtualSize: number): Fixture {
  const bytes = fs.readFileSync(file);
  return {
    path: file,
    size: bytes.length,
    md5: createHash("md5").update(bytes).digest("hex"),
    sha512: createHash("sha512").update(bytes).digest("hex"),
    virtualSize,
  };
}

/** An ISO 9660 image made by genisoimage (with `udf`, a UDF bridge too), holding a few files. */
export function iso(name: string, udf = false): Fixture {
  const key = `iso-${name}-${udf}`;
  const existing = cache.get(key);
  if (existing) return existing;
  const content = path.join(dir, `${key}-content`);
  fs.mkdirSync(content, { recursive: true });
  fs.writeFileSync(path.join(content, "README.TXT"), `boot media ${name}\n`);
  fs.writeFileSync(path.join(content, "DATA.BIN"), createHash("sha512").update(name).digest());
  const file = path.join(dir, `${key}.iso`);
  execFileSync("genisoimage", [
    "-quiet",
    "-o",
    file,
    "-V",
    name.toUpperCase().slice(0, 16),
    ...(udf ? ["-udf"] : []),
    "-R",
    content,
  ]);
  const fixture = describeFile(file, fs.statSync(file).size);
  cache.set(key, fixture);
  return fixture;
}

/** The qemu-img formats and subformats the Compute API accepts from a URI (qemu-img calls VHD "vpc"). */
export const ACCEPTED_SUBFORMATS: readonly (readonly [format: string, options: string])[] = [
  ["qcow2", ""],
  ["qcow2", "compat=0.10"],
  ["qcow2", "extended_l2=on,cluster_size=128k"],
  ["vmdk", ""],
  ["vmdk", "subformat=streamOptimized"],
  ["vpc", ""],
  ["vpc", "subformat=fixed"],
];
