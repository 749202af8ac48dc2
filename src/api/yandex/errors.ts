import { quotaViolationOf } from "../../core/quotas/quota.js";
import type { FastifyError } from "fastify";
import type { ErrorCode, FieldViolation } from "../../core/errors.js";
import { isVitrineError, needsOperatorAttention } from "../../core/errors.js";

/** gRPC status codes and the HTTP status the gRPC-HTTP mapping gives each (Yandex API design guide). */
const GRPC: Record<ErrorCode, { code: number; http: number }> = {
  CANCELLED: { code: 1, http: 499 },
  INVALID_ARGUMENT: { code: 3, http: 400 },
  NOT_FOUND: { code: 5, http: 404 },
  ALREADY_EXISTS: { code: 6, http: 409 },
  PERMISSION_DENIED: { code: 7, http: 403 },
  RESOURCE_EXHAUSTED: { code: 8, http: 429 },
  FAILED_PRECONDITION: { code: 9, http: 400 },
  ABORTED: { code: 10, http: 409 },
  OUT_OF_RANGE: { code: 11, http: 400 },
  UNIMPLEMENTED: { code: 12, http: 501 },
  INTERNAL: { code: 13, http: 500 },
  UNAVAILABLE: { code: 14, http: 503 },
  UNAUTHENTICATED: { code: 16, http: 401 },
  // Not a gRPC code: an image over the size limit is an argument the service refuses.
  PAYLOAD_TOO_LARGE: { code: 3, http: 400 },
};

/**
 * google.rpc.Status as JSON, with BadRequest field violations when there are any and a
 * QuotaFailure naming the quota a RESOURCE_EXHAUSTED refusal ran into.
 */
export function renderStatus(
  code: ErrorCode,
  message: string,
  violations: FieldViolation[] = [],
  requestId?: string,
  quota: { subject: string; description: string } | null = null,
): { code: number; message: string; details: Record<string, unknown>[] } {
  const details: Record<string, unknown>[] = [];
  if (violations.length > 0) {
    details.push({ "@type": "type.googleapis.com/google.rpc.BadRequest", fieldViolations: violations });
  }
  if (quota) details.push({ "@type": "type.googleapis.com/google.rpc.QuotaFailure", violations: [quota] });
  if (requestId) details.push({ "@type": "type.googleapis.com/google.rpc.RequestInfo", requestId });
  return { code: GRPC[code].code, message, details };
}

/**
 * The one place a Yandex-dialect request error becomes a response: core errors keep their code;
 * framework errors (malformed JSON, schema mismatch, body too large, wrong media type) are the
 * caller's mistakes and become INVALID_ARGUMENT; anything else is INTERNAL with no detail.
 */
export function toYandexError(
  err: unknown,
  requestId: string,
): { status: number; body: ReturnType<typeof renderStatus>; internal: boolean; retryAfter: number | null } {
  if (isVitrineError(err)) {
    return {
      // A full disk is not the caller's quota (429): WebDAV's 507 Insufficient Storage says it.
      status: err.reason === "STORAGE_FULL" ? 507 : GRPC[err.code].http,
      body: renderStatus(err.code, err.message, err.violations, requestId, quotaViolationOf(err)),
      internal: needsOperatorAttention(err),
      retryAfter: err.retryAfterSeconds,
    };
  }
  return { ...toYandexClientError(err, requestId), retryAfter: null };
}

function toYandexClientError(
  err: unknown,
  requestId: string,
): { status: number; body: ReturnType<typeof renderStatus>; internal: boolean } {
  const fe = err as FastifyError & { validation?: AjvError[]; validationContext?: string };
  if (fe.validation) {
    const violations = fe.validation.map((v) => ajvViolation(v, fe.validationContext ?? "body"));
    const first = violations[0]!;
    const message = `Request validation error: ${first.field}: ${first.description}`;
    return {
      status: 400,
      body: renderStatus("INVALID_ARGUMENT", message, violations, requestId),
      internal: false,
    };
  }
  const clientError =
    CLIENT_ERRORS[fe.code ?? ""] ?? (err instanceof SyntaxError ? "Request body is not valid JSON" : null);
  if (clientError) {
    return {
      status: 400,
      body: renderStatus("INVALID_ARGUMENT", clientError, [], requestId),
      internal: false,
    };
  }
  // Any other refusal the framework makes of the request itself (QUERY without a Content-Type).
  if (fe.code?.startsWith("FST_ERR_") && typeof fe.statusCode === "number" && fe.statusCode < 500) {
    return {
      status: fe.statusCode,
      body: renderStatus("INVALID_ARGUMENT", fe.message, [], requestId),
      internal: false,
    };
  }
  return { status: 500, body: renderStatus("INTERNAL", "Internal error", [], requestId), internal: true };
}

const CLIENT_ERRORS: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: "Request body is too large",
  FST_ERR_CTP_INVALID_MEDIA_TYPE: "Unsupported Content-Type: send application/json",
  FST_ERR_CTP_EMPTY_JSON_BODY: "Request body is empty but Content-Type is application/json",
  FST_ERR_CTP_INVALID_JSON_BODY: "Request body is not valid JSON",
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: "Content-Length does not match the body",
  FST_ERR_BAD_URL: "Malformed URL",
};

interface AjvError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

/** Names the offending field the way the API spells it: `labels.env`, `os.type`, `productIds[0]`. */
function ajvViolation(e: AjvError, context: string): FieldViolation {
  const parts = e.instancePath.split("/").filter(Boolean);
  let field = parts.map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
  if (e.keyword === "additionalProperties") {
    const extra = String(e.params.additionalProperty);
    field = field ? `${field}.${extra}` : extra;
    return { field, description: "unknown field" };
  }
  if (e.keyword === "required") {
    const missing = String(e.params.missingProperty);
    return { field: field ? `${field}.${missing}` : missing, description: "is required" };
  }
  return { field: field || context, description: e.message ?? "is invalid" };
}
