import { Agent, request } from "undici";
import { VitrineError } from "../../core/errors.js";
import type { UrlPolicy } from "../url-policy.js";
import type { ResumeFrom, SourceData } from "../../core/ports/ingest.js";
import { describeCauses, findVitrineError } from "../../error-causes.js";

const MAX_REDIRECTS = 5;

/**
 * Opens an http(s) URL as a byte stream, under the import policy. Redirects are followed by hand
 * so every hop is checked again; each connection resolves through the policy's guarded lookup.
 */
export async function openUrl(
  policy: UrlPolicy,
  uri: string,
  signal: AbortSignal,
  resume?: ResumeFrom,
  /** Sent to the URL's own origin only (credentials are not handed to where it redirects). */
  originHeaders: Record<string, string> = {},
): Promise<SourceData> {
  // A resumed read asks for the rest, if the source is still the same version (If-Range): a
  // changed source, or one that ignores ranges, answers 200 with all of it, read from the start.
  const headers: Record<string, string> = resume
    ? { range: `bytes=${resume.offset}-`, "if-range": resume.validator }
    : {};
  let url = policy.parse(uri);
  const origin = url.origin;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const agent = new Agent({
      connect: { lookup: policy.lookupFor(url.hostname) },
      headersTimeout: 30_000,
      bodyTimeout: 60_000,
    });
    let res;
    try {
      res = await request(url, {
        method: "GET",
        dispatcher: agent,
        signal,
        headers: url.origin === origin ? { ...headers, ...originHeaders } : headers,
      });
    } catch (err) {
      await agent.close().catch(() => undefined);
      if (signal.aborted) throw signal.reason;
      const refusal = findVitrineError(err);
      if (refusal) throw refusal;
      throw new VitrineError("UNAVAILABLE", `uri: cannot fetch ${url.host}: ${describeCauses(err)}`);
    }
    if (res.statusCode >= 300 && res.statusCode < 400 && res.headers.location) {
      res.body.resume();
      await agent.close();
      url = policy.parse(new URL(String(res.headers.location), url).toString());
      continue;
    }
    const partial = res.statusCode === 206 && resume ? contentRange(res.headers["content-range"]) : null;
    if (res.statusCode !== 200 && (partial === null || partial.start !== resume!.offset)) {
      res.body.resume();
      await agent.close();
      const code = res.statusCode === 404 || res.statusCode === 403 ? "NOT_FOUND" : "UNAVAILABLE";
      throw new VitrineError(code, `uri: the source answered HTTP ${res.statusCode}`);
    }
    res.body.once("close", () => void agent.close().catch(() => undefined));
    const length = partial ? partial.total : Number(res.headers["content-length"]);
    return {
      stream: res.body,
      length: Number.isSafeInteger(length) && length >= 0 ? length : null,
      start: partial ? partial.start : 0,
      validator: res.headers["accept-ranges"] === "bytes" || partial ? validatorOf(res.headers) : null,
    };
  }
  throw new VitrineError("INVALID_ARGUMENT", `uri: more than ${MAX_REDIRECTS} redirects`);
}

/** `bytes start-end/total` of a 206 answer, or null when it is not one. */
function contentRange(value: unknown): { start: number; total: number } | null {
  const m = /^bytes (\d+)-\d+\/(\d+)$/.exec(String(value ?? ""));
  return m ? { start: Number(m[1]), total: Number(m[2]) } : null;
}

/** A strong ETag, else Last-Modified: what If-Range may name (a weak ETag may not). */
function validatorOf(headers: Record<string, string | string[] | undefined>): string | null {
  const etag = headers.etag;
  if (typeof etag === "string" && !etag.startsWith("W/")) return etag;
  const modified = headers["last-modified"];
  return typeof modified === "string" ? modified : null;
}
