import { STATUS_CODES } from "node:http";
import type { FastifyError } from "fastify";
import type { ErrorCode, ErrorReason } from "../../core/errors.js";
import { isVitrineError, needsOperatorAttention } from "../../core/errors.js";
import { GLANCE_MESSAGES } from "./messages.js";

/** Glance's HTTP status for each core error code. */
const STATUS: Record<ErrorCode, number> = {
  CANCELLED: 409,
  INVALID_ARGUMENT: 400,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  PERMISSION_DENIED: 403,
  RESOURCE_EXHAUSTED: 413,
  FAILED_PRECONDITION: 409,
  ABORTED: 409,
  OUT_OF_RANGE: 400,
  UNIMPLEMENTED: 501,
  INTERNAL: 500,
  UNAVAILABLE: 503,
  UNAUTHENTICATED: 401,
  PAYLOAD_TOO_LARGE: 413,
};

/** Where Glance answers differently from the code alone. */
const REASON_STATUS: Partial<Record<ErrorReason, number>> = {
  PROTECTED: 403,
  READ_ONLY_ATTRIBUTE: 403,
  RESERVED_ATTRIBUTE: 403,
  STATUS_NOT_ALLOWED: 403,
  STATUS_CONFLICT: 409,
  NOT_OWNER: 403,
  OWNER_CHANGE_DENIED: 403,
  MEMBER_CONFLICT: 409,
  RANGE_NOT_SATISFIABLE: 416,
  STORAGE_FULL: 413,
  RATE_LIMITED: 429,
  FORMAT_FROZEN: 403,
  TRANSITION_NOT_ALLOWED: 409,
  NO_STAGED_DATA: 409,
  // tus's answers for resumable uploads (README "Resumable transfers").
  UPLOAD_LOCKED: 423,
  UPLOAD_OFFSET_MISMATCH: 409,
  UPLOAD_TAKEN_OVER: 409,
  UPLOAD_NOT_FOUND: 404,
};

export interface GlanceErrorBody {
  message: string;
  code: string;
  title: string;
}

/** An HTTP-level refusal with no core meaning (415 wrong media type, 416 with its Content-Range). */
export class GlanceHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** Where Glance's titles (webob's, from RFC 2616) differ from Node's (RFC 9110): as Glance's samples show them. */
const WEBOB_TITLES: Record<number, string> = {
  413: "Request Entity Too Large",
  414: "Request-URI Too Long",
  416: "Request Range Not Satisfiable",
};

/** Glance's error body: `{message, code: "404 Not Found", title: "Not Found"}`. */
export function glanceErrorBody(status: number, message: string): GlanceErrorBody {
  const title = WEBOB_TITLES[status] ?? STATUS_CODES[status] ?? "Error";
  return { message, code: `${status} ${title}`, title };
}

/**
 * The one place an OpenStack-dialect error becomes a response. Core errors map by reason, then
 * code; framework errors are the client's (bad JSON, body too large); anything else is a 500
 * without detail.
 */
export function toGlanceError(err: unknown): {
  status: number;
  body: GlanceErrorBody;
  internal: boolean;
  headers?: Record<string, string>;
} {
  if (err instanceof GlanceHttpError) {
    return {
      status: err.status,
      body: glanceErrorBody(err.status, err.message),
      internal: false,
      headers: err.headers,
    };
  }
  if (isVitrineError(err)) {
    const status = (err.reason && REASON_STATUS[err.reason]) ?? STATUS[err.code];
    return {
      status,
      body: glanceErrorBody(status, (err.reason && GLANCE_MESSAGES[err.reason]?.(err.args)) ?? err.message),
      internal: needsOperatorAttention(err),
      ...(err.retryAfterSeconds !== null
        ? { headers: { "retry-after": String(err.retryAfterSeconds) } }
        : err.reason === "RANGE_NOT_SATISFIABLE"
          ? { headers: { "content-range": `bytes */${err.args.size}` } } // RFC 9110: the current length
          : {}),
    };
  }
  const fe = err as FastifyError;
  if (fe.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
    return { status: 413, body: glanceErrorBody(413, "Request body is too large."), internal: false };
  }
  if (fe.code?.startsWith("FST_ERR_CTP_") || err instanceof SyntaxError) {
    return { status: 400, body: glanceErrorBody(400, "Malformed JSON in request body."), internal: false };
  }
  if (fe.code === "FST_ERR_BAD_URL") {
    return { status: 400, body: glanceErrorBody(400, "Malformed URL."), internal: false };
  }
  // Any other refusal the framework makes of the request itself (QUERY without a Content-Type).
  if (fe.code?.startsWith("FST_ERR_") && typeof fe.statusCode === "number" && fe.statusCode < 500) {
    return { status: fe.statusCode, body: glanceErrorBody(fe.statusCode, fe.message), internal: false };
  }
  return {
    status: 500,
    body: glanceErrorBody(
      500,
      "The server has either erred or is incapable of performing the requested operation.",
    ),
    internal: true,
  };
}
