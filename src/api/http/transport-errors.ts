import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import type { Logger } from "pino";
import { invalidArgument } from "../../core/errors.js";
import { glanceErrorBody } from "../openstack/errors.js";
import { toYandexError } from "../yandex/errors.js";

/** Paths of the Yandex-style dialects; everything else is OpenStack's (served at the root). */
const YANDEX_PREFIXES = ["/compute/", "/baremetal/", "/operations"];

export const isYandexPath = (url: string | undefined): boolean =>
  url !== undefined && YANDEX_PREFIXES.some((p) => url.startsWith(p));

/** A request id of the dialect `path` names: Glance's `req-<uuid>`, the Yandex dialects' UUID. */
export const newRequestId = (path: string | undefined): string =>
  isYandexPath(path) ? randomUUID() : `req-${randomUUID()}`;

/**
 * Answers a request Node's HTTP parser refused before any route saw it (a malformed request
 * line or header: 400; headers over the limit: 431; a slow header: 408) in the error shape of the
 * dialect its path names, with a request id, and closes the connection.
 */
export function answerClientError(
  err: { code?: string; rawPacket?: unknown },
  socket: Duplex,
  log: Logger,
): void {
  const status =
    err.code === "HPE_HEADER_OVERFLOW" ? 431 : err.code === "ERR_HTTP_REQUEST_TIMEOUT" ? 408 : 400;
  const path = pathOf(Buffer.isBuffer(err.rawPacket) ? err.rawPacket : undefined);
  const message =
    status === 431
      ? "The request's headers are too large."
      : status === 408
        ? "The request's headers did not arrive in time."
        : "The request is not valid HTTP.";
  writeRawError(socket, status, path, message, log, { parserError: err.code });
}

/**
 * CONNECT asks the service to be a proxy, which it is not: Node leaves such a request unanswered
 * unless someone listens, so answer 405 in the dialect of the path (OpenStack's for a host:port).
 */
export function answerConnect(req: IncomingMessage, socket: Duplex, log: Logger): void {
  writeRawError(socket, 405, req.url, "The CONNECT method is not allowed.", log, { method: "CONNECT" });
}

function writeRawError(
  socket: Duplex,
  status: number,
  path: string | undefined,
  message: string,
  log: Logger,
  context: Record<string, unknown>,
): void {
  if (socket.destroyed || !socket.writable) return;
  const id = newRequestId(path);
  const yandex = isYandexPath(path);
  const body = JSON.stringify(
    yandex ? toYandexError(invalidArgument(message), id).body : glanceErrorBody(status, message),
  );
  log.info({ reqId: id, status, path, ...context }, "refused a request the HTTP parser could not take");
  socket.end(
    [
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Error"}`,
      `${yandex ? "x-request-id" : "x-openstack-request-id"}: ${id}`,
      "content-type: application/json; charset=utf-8",
      `content-length: ${Buffer.byteLength(body)}`,
      "connection: close",
      "",
      body,
    ].join("\r\n"),
  );
}

/** The path of a raw request's first line, when it has one. */
function pathOf(raw: Buffer | undefined): string | undefined {
  if (!raw) return undefined;
  const line = raw.subarray(0, Math.min(raw.length, 8192)).toString("latin1").split("\r\n", 1)[0] ?? "";
  return /^[A-Za-z-]+ (\/\S*)/.exec(line)?.[1];
}
