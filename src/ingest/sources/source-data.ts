import type { Readable } from "node:stream";

/** An opened source of image data, and its length when the source announces one. */
export interface SourceData {
  stream: Readable;
  length: number | null;
}
