import type { Readable } from "node:stream";
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

  /** Streams `data` as the request body (an upload); `signal` stops it. */
  async putStream(path: string, data: Readable, length: number, signal?: AbortSignal): Promise<void> {
    const res = await this.send("PUT", path, {
      body: data,
      contentType: "application/octet-stream",
      length,
      signal,
    });
    await res.body.dump();
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
