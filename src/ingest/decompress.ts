import { spawn } from "node:child_process";
import { Readable, Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import zlib from "node:zlib";
import { VitrineError } from "../core/errors.js";
import type { Compression } from "../core/ports/ingest.js";

/** The bounds a decompression works under (README "Conversion and export"). */
export interface DecompressionLimits {
  /** The most bytes a compressed source may expand to (the largest image accepted). */
  maxOutputBytes: number;
  /** The largest expansion ratio accepted once the output passed `ratioFloorBytes`; 0: none. */
  maxRatio: number;
  /** Below this much output the ratio is not judged (small images compress very well too). */
  ratioFloorBytes: number;
  /** The memory a decoder (xz, zstd) may use, in bytes. */
  decoderMemoryBytes: number;
}

/**
 * Signatures, not file names: what a compressed stream starts with. gzip also needs its only
 * method (deflate) in the third byte, and bzip2 a block size digit, so that random data (and
 * every disk format the inspector knows) rarely looks compressed.
 */
const SIGNATURES: { codec: Compression; matches: (head: Buffer) => boolean }[] = [
  { codec: "gzip", matches: (h) => h[0] === 0x1f && h[1] === 0x8b && h[2] === 0x08 },
  { codec: "xz", matches: (h) => h.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])) },
  { codec: "zstd", matches: (h) => h.readUInt32LE(0) === 0xfd2fb528 },
  {
    codec: "bzip2",
    matches: (h) => h.subarray(0, 3).toString("latin1") === "BZh" && h[3]! >= 0x31 && h[3]! <= 0x39,
  },
];
const HEAD_BYTES = 6;

/** The codec a stream starting with `head` is compressed with, or null. */
export function compressionOf(head: Buffer): Compression | null {
  if (head.length < HEAD_BYTES) return null;
  return SIGNATURES.find((s) => s.matches(head))?.codec ?? null;
}

/**
 * The bytes of `source`, decompressed when they start with a known signature (gzip, xz, zstd,
 * bzip2), passed through otherwise. `onCodec` hears which codec was found before any output.
 * gzip is Node's zlib; xz, zstd and bzip2 are the reference decoders from Debian (xz-utils,
 * zstd, bzip2) as child processes with their memory bounded, so a hostile stream costs a
 * process, not the service. The output is watched as it flows: past the size limit, or past the
 * ratio bound, the stream fails at once (a decompression bomb never reaches the disk in full).
 */
export function decompressing(
  source: Readable,
  limits: DecompressionLimits,
  label: string,
  onCodec?: (codec: Compression | null) => void,
): Readable {
  return Readable.from(
    (async function* () {
      const chunks = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
      const head: Buffer[] = [];
      let length = 0;
      while (length < HEAD_BYTES) {
        const next = await chunks.next();
        if (next.done) break;
        head.push(next.value);
        length += next.value.length;
      }
      const first = Buffer.concat(head);
      const codec = compressionOf(first);
      onCodec?.(codec);
      const rest = Readable.from(prepend(first, chunks), { objectMode: false });
      yield* codec ? expand(rest, codec, limits, label) : rest;
    })(),
    { objectMode: false },
  );
}

async function* prepend(head: Buffer, rest: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  try {
    if (head.length > 0) yield head;
    for (let next = await rest.next(); !next.done; next = await rest.next()) yield next.value;
  } finally {
    await rest.return?.(); // a reader gone early lets the source go too
  }
}

function expand(
  compressed: Readable,
  codec: Compression,
  limits: DecompressionLimits,
  label: string,
): Readable {
  let inBytes = 0;
  const counted = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      inBytes += chunk.length;
      cb(null, chunk);
    },
  });
  const guard = new BombGuard(limits, label, codec, () => inBytes);
  const decoder = decoderFor(codec, limits);
  const fail = (err: unknown) => guard.destroy(asError(err, codec));
  pipeline(compressed, counted, decoder.input).catch(fail);
  // Piped, not pipelined: a decoder's failure reaches the reader as `fail` words it.
  decoder.output.once("error", fail);
  decoder.output.pipe(guard);
  decoder.done.catch(fail);
  guard.once("close", () => {
    compressed.destroy();
    decoder.kill();
  });
  return guard;
}

/** Fails the stream when what came out is too much, in all or for what went in. */
class BombGuard extends Transform {
  private outBytes = 0;

  constructor(
    private readonly limits: DecompressionLimits,
    private readonly label: string,
    private readonly codec: Compression,
    private readonly inBytes: () => number,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.outBytes += chunk.length;
    const { maxOutputBytes, maxRatio, ratioFloorBytes } = this.limits;
    if (this.outBytes > maxOutputBytes) {
      cb(this.refusal(`it expands to more than ${maxOutputBytes} bytes, the largest image accepted`));
      return;
    }
    const ratio = this.outBytes / Math.max(1, this.inBytes());
    if (maxRatio > 0 && this.outBytes > ratioFloorBytes && ratio > maxRatio) {
      cb(this.refusal(`it expands more than ${maxRatio} times (${Math.floor(ratio)}:1 so far)`));
      return;
    }
    cb(null, chunk);
  }

  private refusal(why: string): VitrineError {
    return new VitrineError(
      "INVALID_ARGUMENT",
      `${this.label}: the ${this.codec}-compressed data is refused: ${why}`,
    ).because("DECOMPRESSION_BOMB", { codec: this.codec });
  }
}

interface Decoder {
  input: NodeJS.WritableStream;
  output: Readable;
  /** Settles when the decoder ended; rejects when it failed. */
  done: Promise<void>;
  kill(): void;
}

const COMMANDS: Record<
  Exclude<Compression, "gzip">,
  { command: string; pkg: string; args: (mem: number) => string[] }
> = {
  xz: {
    command: "xz",
    pkg: "xz-utils",
    args: (mem) => ["--decompress", "--stdout", `--memlimit-decompress=${mem}`],
  },
  zstd: {
    command: "zstd",
    pkg: "zstd",
    // --memory bounds the window a frame may ask for (zstd's own guard against hostile frames).
    args: (mem) => ["--decompress", "--stdout", "--quiet", `--memory=${Math.floor(mem / (1024 * 1024))}MB`],
  },
  bzip2: { command: "bzip2", pkg: "bzip2", args: () => ["--decompress", "--stdout", "--quiet"] },
};

function decoderFor(codec: Compression, limits: DecompressionLimits): Decoder {
  if (codec === "gzip") {
    const gunzip = zlib.createGunzip();
    return { input: gunzip, output: gunzip, done: Promise.resolve(), kill: () => gunzip.destroy() };
  }
  const { command, pkg, args } = COMMANDS[codec];
  const child = spawn(command, args(limits.decoderMemoryBytes), { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => {
    if (stderr.length < 2000) stderr += d.toString();
  });
  child.stdin.on("error", () => undefined); // the exit status tells what went wrong
  const done = new Promise<void>((resolve, reject) => {
    child.once("error", (err: NodeJS.ErrnoException) =>
      reject(
        err.code === "ENOENT"
          ? new VitrineError(
              "FAILED_PRECONDITION",
              `${codec}-compressed data needs the ${command} command (Debian package ${pkg}) on the worker`,
            ).because("TOOL_MISSING", { tool: command })
          : err,
      ),
    );
    child.once("close", (code, signal) => {
      if (code === 0) resolve();
      else
        reject(
          new VitrineError(
            "INVALID_ARGUMENT",
            `the ${codec}-compressed data cannot be decompressed: ${stderr.trim().split("\n").pop() || `exit ${code ?? signal}`}`,
          ).because("DECOMPRESSION_FAILED", { codec }),
        );
    });
  });
  // The output ends only once the decoder said it succeeded: a truncated stream is an error, not a short image.
  const output = Readable.from(
    (async function* () {
      for await (const chunk of child.stdout) yield chunk as Buffer;
      await done;
    })(),
    { objectMode: false },
  );
  return { input: child.stdin, output, done, kill: () => child.kill("SIGKILL") };
}

/** zlib's own failures (Z_DATA_ERROR, Z_BUF_ERROR: a corrupt or cut stream) said as the CLI decoders' are. */
function asError(err: unknown, codec: Compression): Error {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (typeof code === "string" && code.startsWith("Z_")) {
    return new VitrineError(
      "INVALID_ARGUMENT",
      `the ${codec}-compressed data cannot be decompressed: ${(err as Error).message}`,
    ).because("DECOMPRESSION_FAILED", { codec });
  }
  return err instanceof Error ? err : new Error(String(err));
}
