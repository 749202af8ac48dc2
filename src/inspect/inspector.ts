import type { DiskFormat } from "../core/disk-format.js";
import type { Windows } from "./windows.js";

/** What the sniffer kept of a stream: a bounded head and tail, and the total length. */
export interface Sample {
  head: Buffer;
  /** The last 512 bytes (a VHD footer, a GPT backup header). */
  tail: Buffer;
  /** The last 1536 bytes (a streamOptimized VMDK's footer marker, footer and end-of-stream marker). */
  end: Buffer;
  total: number;
}

/** Reads tables a header points to (windows further on) while the data streams past. */
export interface TableReader {
  /** Findings about the tables once the stream ended (e.g. past the end of the file). */
  endFindings(total: number): string[];
  /** The virtual size, where the format keeps it in a table rather than the header. */
  readonly virtualSize?: number | null;
}

/**
 * One disk format: how to recognise it, which tables to read as they stream past, and what its
 * virtual size and safety findings are at the end. Adding a format adds one file with one of
 * these, and a line in inspectors.ts.
 */
export interface FormatInspector {
  readonly format: DiskFormat;
  /** Whether the data carries this format's signature. */
  matches(sample: Sample): boolean;
  /**
   * Called once the head holds a header (512 bytes): the reader of the tables this header
   * points to, or null when the data is not this format or has nothing to read further on.
   */
  startReader?(head: Buffer, windows: Windows): TableReader | null;
  /** The virtual size and safety findings, once the stream ended. */
  inspect(sample: Sample, reader: TableReader | null): { virtualSize: number; findings: string[] };
}
