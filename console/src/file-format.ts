import { Buffer } from "buffer";
import { SIGNATURE_SAMPLE, signatureFormat } from "../../src/inspect/sniffer.js";

/**
 * The format a file's signature names, read in the browser by the same inspectors the CLI and the
 * server use (a qcow2 named `ubuntu-cloud.img` is a qcow2): only the head and the end of the file
 * are read. The server inspects every byte again and refuses a mismatch.
 */
export async function fileFormat(file: File): Promise<string> {
  const head = Buffer.from(await file.slice(0, SIGNATURE_SAMPLE.head).arrayBuffer());
  const end = Buffer.from(await file.slice(Math.max(0, file.size - SIGNATURE_SAMPLE.end)).arrayBuffer());
  return signatureFormat({ head, tail: end, end, total: file.size });
}
