import type { DiskFormat, FormatVerdict } from "../core/disk-format.js";
import type { FormatInspector, Sample, TableReader } from "./inspector.js";
import { FALLBACK_INSPECTOR, INSPECTORS } from "./inspectors.js";
import { hasMbrPartitions } from "./partitions.js";
import { type Range, Windows } from "./windows.js";
import { FOUR_TIB } from "../core/image-sizes.js";

/** How much of the head to keep: the ISO 9660 volume descriptors from 32 KiB, a GPT entry array. */
const HEAD_BYTES = 64 * 1024;
/** Table readers start once the head holds this much: every header they read fits, every table is further on. */
const READERS_START = 512;
/** VHD keeps its footer in the last 512 bytes, GPT its backup header; a VMDK its footer in the last 1536. */
const TAIL_BYTES = 512;
const END_BYTES = 1536;

export interface SnifferOptions {
  /** The largest virtual size accepted (default 4 TiB, the most a Compute minDiskSize may be). */
  maxVirtualSize?: number;
  /** Keeps what `snapshot()` needs (the filled windows); a resumable upload's sniffer does. */
  snapshots?: boolean;
}

/**
 * What a sniffer kept of a stream: its length and the bytes it looked at (the head, the windows
 * its table readers asked for, the end). Pushing those bytes at their offsets into a new sniffer,
 * and skipping the rest, gives it the same state: the readers ask for the same windows again.
 */
export interface SnifferSnapshot {
  total: number;
  ranges: Range[];
}

/**
 * Recognises a disk image format while the data streams past, keeping only a bounded head and
 * tail and the windows a format asks for (VHDX metadata). Push every chunk, then ask for the
 * verdict once the stream ended. The verdict names the format, the virtual size, and every
 * safety finding: each format's own rules (one inspector per format file, listed in
 * inspectors.ts), data that matches more than one format (a polyglot), and tables or sizes that
 * point past the end of the file (truncation).
 */
export class FormatSniffer {
  private readonly maxVirtualSize: number;
  private head = Buffer.alloc(0);
  private end = Buffer.alloc(0);
  private total = 0;
  private readonly windows: Windows;
  /**
   * Readers of tables a format points to, started once the head holds the header: they ask for
   * windows further on and report at the end what lies past the end of the file.
   */
  private readers: Map<DiskFormat, TableReader> | null = null;

  constructor(options: SnifferOptions = {}) {
    this.maxVirtualSize = options.maxVirtualSize ?? FOUR_TIB;
    this.windows = new Windows(options.snapshots ?? false);
  }

  /** A sniffer in the state `snapshot` was taken in (made with `snapshots` on). */
  static restore(snapshot: SnifferSnapshot, options: SnifferOptions = {}): FormatSniffer {
    const sniffer = new FormatSniffer({ ...options, snapshots: true });
    const ranges = [...snapshot.ranges].sort((a, b) => a.offset - b.offset);
    for (const range of ranges) {
      const from = Math.max(sniffer.total, range.offset);
      const to = range.offset + range.data.length;
      if (to <= from) continue;
      if (from > sniffer.total) sniffer.skip(from - sniffer.total);
      sniffer.push(range.data.subarray(from - range.offset));
    }
    if (snapshot.total > sniffer.total) sniffer.skip(snapshot.total - sniffer.total);
    return sniffer;
  }

  /** The bytes this sniffer looked at, to `restore` it from (see SnifferSnapshot). */
  snapshot(): SnifferSnapshot {
    const ranges: Range[] = [{ offset: 0, data: this.head }, ...this.windows.captured()];
    if (this.end.length > 0) ranges.push({ offset: this.total - this.end.length, data: this.end });
    return { total: this.total, ranges };
  }

  /** The first bytes seen (up to 64 KiB): what a compression's signature is looked for in. */
  get start(): Buffer {
    return this.head;
  }

  /** Moves past bytes nobody looks at (only a restore does, between the ranges it replays). */
  private skip(length: number): void {
    if (this.head.length < HEAD_BYTES) throw new Error("a sniffer cannot skip its head");
    this.windows.skip(length);
    this.total += length;
    this.end = Buffer.alloc(0);
  }

  push(chunk: Buffer): void {
    this.total += chunk.length;
    if (this.head.length < HEAD_BYTES) {
      this.head = Buffer.concat([this.head, chunk.subarray(0, HEAD_BYTES - this.head.length)]);
      if (!this.readers && this.head.length >= READERS_START) this.readers = this.startReaders(this.head);
    }
    this.windows.push(chunk);
    if (chunk.length >= END_BYTES) {
      this.end = Buffer.from(chunk.subarray(chunk.length - END_BYTES));
    } else {
      const joined = Buffer.concat([this.end, chunk]);
      this.end = joined.subarray(Math.max(0, joined.length - END_BYTES));
    }
  }

  private startReaders(head: Buffer): Map<DiskFormat, TableReader> {
    const readers = new Map<DiskFormat, TableReader>();
    for (const inspector of INSPECTORS) {
      const reader = inspector.startReader?.(head, this.windows);
      if (reader) readers.set(inspector.format, reader);
    }
    return readers;
  }

  verdict(): FormatVerdict {
    const tail = this.end.subarray(Math.max(0, this.end.length - TAIL_BYTES));
    const sample: Sample = { head: this.head, tail, end: this.end, total: this.total };
    const matches = INSPECTORS.filter((inspector) => inspector.matches(sample));
    const primary: FormatInspector = matches[0] ?? FALLBACK_INSPECTOR;
    const { virtualSize, findings } = primary.inspect(sample, this.readers?.get(primary.format) ?? null);
    if (matches.length > 1) {
      findings.unshift(
        `polyglot: the data is valid as ${matches.map((m) => m.format).join(" and ")} at once; a reader could take it for either`,
      );
    } else if (primary.format !== "raw" && primary.format !== "iso" && hasMbrPartitions(this.head)) {
      // A header that is also a partition table: firmware or a tool reading the disk raw would
      // find partitions the format's reader does not see. Hybrid ISOs carry one honestly.
      findings.unshift(
        `polyglot: the data is valid as ${primary.format} and as a raw disk with an MBR partition table at once; a reader could take it for either`,
      );
    }
    if (virtualSize > this.maxVirtualSize) {
      findings.push(
        `${primary.format}: virtual size ${virtualSize} exceeds the limit of ${this.maxVirtualSize} bytes`,
      );
    }
    return { format: primary.format, virtualSize, findings: [...new Set(findings)] };
  }
}

/**
 * The format a file's signatures name, from its head and end alone (no tables read, no safety
 * checks): what a client declares before uploading. The server inspects the whole stream again.
 */
export function signatureFormat(sample: Sample): DiskFormat {
  const tail = sample.end.subarray(Math.max(0, sample.end.length - TAIL_BYTES));
  return (INSPECTORS.find((i) => i.matches({ ...sample, tail })) ?? FALLBACK_INSPECTOR).format;
}

/** How much of a file's head and end `signatureFormat` needs. */
export const SIGNATURE_SAMPLE = { head: HEAD_BYTES, end: END_BYTES };
