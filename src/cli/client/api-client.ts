import fs from "node:fs";
import type { Readable } from "node:stream";
import * as tus from "tus-js-client";
import { request } from "undici";
import { describeCauses } from "../../error-causes.js";
import { ApiError, Unreachable, UsageError } from "./exit-codes.js";

export type Json = Record<string, unknown>;
type Query = Record<string, string | number | undefined>;

/**
 * The service's public APIs as the CLI uses them: the Compute Image API and operations (Yandex
 * style, `Authorization: Bearer`) and, for image bytes, the OpenStack Image API (`X-Auth-Token`).
 * Errors come back as ApiError with the dialect's message and the request id.
 */
export class ApiClient {
  constructor(
    readonly endpoint: string,
    private readonly token: string | null,
  ) {
    if (!/^https?:\/\//.test(endpoint)) throw new UsageError(`endpoint ${endpoint} is not an http(s) URL`);
  }

  async json<T = Json>(
    method: string,
    path: string,
    options: { query?: Query; body?: unknown } = {},
  ): Promise<T> {
    const res = await this.send(method, path, {
      query: options.query,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      contentType: options.body === undefined ? undefined : "application/json",
    });
    const text = await res.body.text();
    if (res.statusCode === 204 || text === "") return {} as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ApiError(this.notTheApi(header(res.headers["content-type"])), res.statusCode, null);
    }
  }

  /** JSON Patch, as the OpenStack API takes it. */
  async patch(path: string, operations: Json[]): Promise<Json> {
    const res = await this.send("PATCH", path, {
      body: JSON.stringify(operations),
      contentType: "application/openstack-images-v2.1-json-patch",
    });
    return (await res.body.json()) as Json;
  }

  /**
   * Uploads a local file over tus (README "Resumable transfers"): `creationPath` is the image's
   * `/file` (or `/stage`). A cut connection, a restarted server or a laptop that slept costs what
   * the server had not yet stored, not the file: the client asks for the stored offset and goes
   * on from there, retrying for about five minutes. `signal` stops it and gives the upload up.
   */
  async uploadFile(
    creationPath: string,
    file: string,
    size: number,
    opts: {
      signal: AbortSignal;
      onProgress: (sent: number) => void;
      onRetry: (why: string, inMs: number) => void;
      /** The server no longer had the upload (expired, cancelled): it starts again from byte 0. */
      onRestart: () => void;
    },
  ): Promise<void> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.token) headers["x-auth-token"] = this.token;
    let uploads = 0;
    await new Promise<void>((resolve, reject) => {
      const upload = new tus.Upload(fs.createReadStream(file), {
        endpoint: this.endpoint + creationPath,
        uploadSize: size,
        // A request per chunk: what a cut costs at most (the server keeps every request's end).
        chunkSize: UPLOAD_CHUNK_BYTES,
        headers,
        retryDelays: RESUME_DELAYS_MS,
        // A resumed upload is this process's: a new run of the command makes a new image.
        storeFingerprintForResuming: false,
        onProgress: (sent) => opts.onProgress(sent),
        // A second upload URL: tus found the first one gone and made a new upload.
        onUploadUrlAvailable: () => {
          if (++uploads > 1) opts.onRestart();
        },
        onShouldRetry: (err, attempt) => {
          const status = (err as tus.DetailedError).originalResponse?.getStatus() ?? 0;
          // What tus retries: no answer, a server error, a conflict or a lock (another request ends).
          const retry = status === 0 || status >= 500 || status === 409 || status === 423;
          if (retry && attempt < RESUME_DELAYS_MS.length) {
            opts.onRetry(retryReason(status), RESUME_DELAYS_MS[attempt]!);
          }
          return retry;
        },
        onError: (err) => reject(this.tusFailure(err)),
        onSuccess: () => resolve(),
      });
      opts.signal.addEventListener(
        "abort",
        () => {
          // Terminated on the server too: the hidden image is deleted right after anyway.
          void upload
            .abort(true)
            .catch(() => {})
            .finally(() => reject(opts.signal.reason));
        },
        { once: true },
      );
      upload.start();
    });
  }

  /** A tus failure as the CLI reports any other: the service's message, or the endpoint unreachable. */
  private tusFailure(err: Error): Error {
    const res = (err as tus.DetailedError).originalResponse;
    if (!res)
      return new Unreachable(
        `cannot reach ${this.endpoint}: ${describeCauses((err as tus.DetailedError).causingError ?? err)}`,
      );
    const status = res.getStatus();
    const requestId = res.getHeader("x-openstack-request-id") ?? null;
    return new ApiError(errorMessage(status, res.getBody() ?? ""), status, requestId);
  }

  /** A response body to stream (a download), with its length when the service sent one. */
  async getStream(path: string): Promise<{ body: Readable; length: number | null; md5: string | null }> {
    const res = await this.send("GET", path, {});
    const length = Number(res.headers["content-length"]);
    return {
      body: res.body,
      length: Number.isSafeInteger(length) ? length : null,
      md5: header(res.headers["content-md5"]),
    };
  }

  private notTheApi(contentType: string | null): string {
    return notTheApiMessage(this.endpoint, contentType);
  }

  private async send(
    method: string,
    path: string,
    opts: {
      query?: Query;
      body?: string | Readable;
      contentType?: string;
      length?: number;
      signal?: AbortSignal;
    },
  ) {
    const url = new URL(this.endpoint + path);
    for (const [k, v] of Object.entries(opts.query ?? {}))
      if (v !== undefined && v !== "") url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { accept: "application/json" };
    if (opts.contentType) headers["content-type"] = opts.contentType;
    if (opts.length !== undefined) headers["content-length"] = String(opts.length);
    if (this.token) {
      if (path.startsWith("/v2/")) headers["x-auth-token"] = this.token;
      else headers.authorization = `Bearer ${this.token}`;
    }
    let res;
    try {
      res = await request(url, { method, headers, body: opts.body, signal: opts.signal });
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      throw new Unreachable(`cannot reach ${this.endpoint}: ${describeCauses(err)}`);
    }
    if (res.statusCode >= 400) {
      const requestId = header(res.headers["x-request-id"]) ?? header(res.headers["x-openstack-request-id"]);
      const text = await res.body.text().catch(() => "");
      const type = header(res.headers["content-type"]);
      // Vitrine answers every error in JSON and names the request: anything else is another server.
      if (requestId === null && !type?.includes("json")) {
        throw new ApiError(this.notTheApi(type), res.statusCode, null);
      }
      let message = errorMessage(res.statusCode, text);
      if (res.statusCode === 401 && !this.token) {
        message = `${message} — no token is set: run \`vitrine config set token <token>\` or pass --token`;
      }
      throw new ApiError(message, res.statusCode, requestId);
    }
    return res;
  }
}

/** Why a resumable upload tries again, in words. */
function retryReason(status: number): string {
  if (status === 0) return "the connection was lost";
  if (status === 423) return "the server is still letting go of the interrupted request";
  if (status === 409) return "the server stored a different amount than this client sent";
  return `the server answered ${status}`;
}

/** The most one PATCH of a resumable upload carries (README "Resumable transfers"). */
export const UPLOAD_CHUNK_BYTES = 64 * 1024 * 1024;

/**
 * How long a resumable upload waits before each new attempt: quick at first (a blip), then up
 * to a minute apart (a server restarting, a laptop waking up), about five minutes in all.
 */
const RESUME_DELAYS_MS = [
  0, 500, 1000, 2000, 3000, 5000, 5000, 10_000, 10_000, 20_000, 30_000, 60_000, 60_000, 60_000,
];

/** What to say when the endpoint answers like something other than Vitrine (a web page, a proxy). */
function notTheApiMessage(endpoint: string, contentType: string | null): string {
  return (
    `${endpoint} does not answer like Vitrine's API (it sent ${contentType ?? "no content type"}); ` +
    "check the endpoint: `vitrine config set endpoint http://host:9292` or --endpoint"
  );
}

/** The message of an error body in either dialect's shape (Yandex `{code, message}`, Glance `{message, title}`). */
function errorMessage(status: number, text: string): string {
  try {
    const body = JSON.parse(text) as { message?: unknown; title?: unknown };
    if (typeof body.message === "string" && body.message !== "") return body.message;
    if (typeof body.title === "string") return body.title;
  } catch {
    // not JSON: fall through
  }
  return text.trim().split("\n")[0] || `HTTP ${status}`;
}

function header(value: string | string[] | undefined): string | null {
  return (Array.isArray(value) ? value[0] : value) ?? null;
}
