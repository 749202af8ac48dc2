import { invalidArgument, permissionDenied } from "../errors.js";
import type { CoreDeps } from "../core-deps.js";
import type { Principal } from "../principal.js";

/**
 * One audited request (README "Events and audit"): who (subject, project), what (dialect, method,
 * action, resource), the decision and why, the request id and where it came from. Never a token,
 * a secret, a body or a query string.
 */
export interface AuditRecord {
  seq: number;
  at: number;
  requestId: string;
  subject: string | null;
  project: string | null;
  dialect: string;
  method: string;
  /** The route or RPC: `PATCH /v2/images/{image_id}`, `yandex.cloud.compute.v1.ImageService/Delete`. */
  action: string;
  /** The resource named in the request (an image id, a folder), when it names one. */
  resource: string | null;
  /** `allowed` (done), `denied` (authentication or authorisation refused), `failed` (refused otherwise). */
  decision: "allowed" | "denied" | "failed";
  status: number;
  reason: string | null;
  source: string | null;
}

export interface AuditQuery {
  since: number;
  until: number;
  subject?: string;
  decision?: AuditRecord["decision"];
  afterSeq?: number;
  limit: number;
}

/** The longest window one query covers. */
const MAX_WINDOW_MS = 31 * 86_400_000;

/** Audit records in a time window, for the service admin. */
export async function listAuditRecords(
  deps: Pick<CoreDeps, "catalog">,
  principal: Principal,
  query: AuditQuery,
): Promise<{ records: AuditRecord[]; more: boolean }> {
  if (!principal.isAdmin) throw permissionDenied("Only the service admin may read the audit records");
  if (!(query.until > query.since)) {
    const description = "must be after since";
    throw invalidArgument(`until: ${description}`, [{ field: "until", description }]);
  }
  if (query.until - query.since > MAX_WINDOW_MS) {
    const description = "a window spans at most 31 days";
    throw invalidArgument(description, [{ field: "since", description }]);
  }
  const rows = await deps.catalog.audit.list(query);
  return { records: rows.slice(0, query.limit), more: rows.length > query.limit };
}
