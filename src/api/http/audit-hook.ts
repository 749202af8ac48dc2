import type { FastifyInstance, FastifyRequest } from "fastify";
import { isVitrineError } from "../../core/errors.js";
import type { Principal } from "../../core/principal.js";
import type { AuditTrail } from "../../observability/audit-trail.js";
import { type ActingScope, actingAs } from "../../observability/request-context.js";
import "./request-context.js";

/** Methods that change nothing: audited only when refused. */
const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);
/** How much of a refusal's message a record keeps. */
const MAX_REASON = 300;

/**
 * Who acts in a request, for the outbox's events (observability/request-context.ts), and the
 * audit record of every mutation and every refused request (README "Events and audit"): who,
 * what (the dialect, the method, the route's template and the ids in its path — never a query
 * string, a header or a body), the decision and why, the request id and the source address.
 */
export function useAuditTrail(
  app: FastifyInstance,
  audit: AuditTrail | null,
  dialectOf: (url: string) => string,
): void {
  const scopes = new WeakMap<FastifyRequest, ActingScope>();
  const reasons = new WeakMap<FastifyRequest, string>();
  // The scope is entered before the handler (after the body is read: a body parsed from the
  // socket's events would have left an earlier one).
  app.addHook("preHandler", (request, _reply, done) => {
    let scope = scopes.get(request);
    if (!scope) {
      scope = { requestId: String(request.id), principal: () => principalOf(request) };
      scopes.set(request, scope);
    }
    actingAs(scope, done);
  });
  if (audit === null) return;
  // When the request arrived: its answer may reach the client well before onResponse runs.
  const arrivals = new WeakMap<FastifyRequest, number>();
  app.addHook("onRequest", (request, _reply, done) => {
    arrivals.set(request, Date.now());
    done();
  });
  app.addHook("onError", async (request, _reply, err) => {
    const reason = isVitrineError(err) ? (err.reason ?? err.code) + ": " + err.message : err.message;
    reasons.set(request, reason.slice(0, MAX_REASON));
  });
  app.addHook("onResponse", async (request, reply) => {
    const status = reply.statusCode;
    const refused = status === 401 || status === 403;
    if (SAFE.has(request.method) && !refused) return;
    const route = request.routeOptions.url;
    const principal = principalOf(request);
    const ids = Object.values((request.params ?? {}) as Record<string, unknown>).filter(
      (v): v is string => typeof v === "string" && v !== "",
    );
    audit.record({
      at: arrivals.get(request) ?? Date.now(),
      requestId: String(request.id),
      subject: principal && !principal.anonymous ? principal.subjectId : null,
      project: principal?.projectId || null,
      dialect: dialectOf(request.url),
      method: request.method,
      action: route ? `${request.method} ${route}` : `${request.method} (no such route)`,
      resource: ids.length > 0 ? ids.join("/") : null,
      decision: refused ? "denied" : status < 400 ? "allowed" : "failed",
      status,
      reason: status < 400 ? null : (reasons.get(request) ?? `HTTP ${status}`),
      source: request.ip,
    });
  });
}

const principalOf = (request: FastifyRequest): Principal | undefined =>
  request.principal as Principal | undefined;
