import type { FastifyPluginAsync } from "fastify";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { Authenticator } from "../../auth/authenticator.js";
import type { Core } from "../../core/core.js";
import { invalidArgument } from "../../core/errors.js";
import type { Principal } from "../../core/principal.js";
import type { ProjectQuota } from "../../core/quotas/project-quotas.js";
import { QUOTA_RESOURCES, type QuotaLimits } from "../../core/quotas/quota.js";
import { answers } from "../http/response-shapes.js";

export interface QuotaRoutesOptions {
  core: Core;
  auth: Authenticator;
}

/** Projects listed at most by `GET /quotas` (the others are counted in `truncated`). */
const MAX_LISTED_PROJECTS = 1000;

// int64 values travel as strings, as everywhere in the Yandex-style APIs; bytes for the sizes.
const Int64 = Type.String({ pattern: "^\\d+$" });
const Resource = Type.Object({ limit: Type.Optional(Int64), usage: Int64 }, { additionalProperties: false });
const Quotas = Type.Object(Object.fromEntries(QUOTA_RESOURCES.map((r) => [r, Resource])), {
  additionalProperties: false,
});
const ProjectQuotaShape = Type.Object(
  {
    projectId: Type.String(),
    origin: Type.Union([Type.Literal("catalog"), Type.Literal("keystone")]),
    quotas: Quotas,
  },
  { additionalProperties: false },
);
const Limits = Type.Object(Object.fromEntries(QUOTA_RESOURCES.map((r) => [r, Type.Optional(Int64)])), {
  additionalProperties: false,
});
const Overview = Type.Object(
  {
    origin: Type.Union([Type.Literal("catalog"), Type.Literal("keystone")]),
    defaults: Limits,
    projects: Type.Array(ProjectQuotaShape),
    truncated: Type.Boolean(),
  },
  { additionalProperties: false },
);
const Defaults = Type.Object(
  { origin: Type.Union([Type.Literal("catalog"), Type.Literal("keystone")]), defaults: Limits },
  { additionalProperties: false },
);
// A limit in the request: a whole number (or its decimal string), or null to remove it.
const LimitValue = Type.Union([Type.Integer({ minimum: 0 }), Type.String(), Type.Null()]);
const SetLimits = Type.Object(
  { limits: Type.Record(Type.String(), LimitValue) },
  { additionalProperties: false },
);
const ProjectParams = Type.Object({ projectId: Type.String() });

function renderQuota(q: ProjectQuota) {
  const quotas = Object.fromEntries(
    QUOTA_RESOURCES.map((r) => {
      const { limit, usage } = q.resources[r];
      return [r, limit === null ? { usage: String(usage) } : { limit: String(limit), usage: String(usage) }];
    }),
  );
  return { projectId: q.projectId, origin: q.origin, quotas };
}

const renderLimits = (limits: QuotaLimits) =>
  Object.fromEntries(Object.entries(limits).map(([r, v]) => [r, String(v)]));

/** A request's limits as numbers: "10737418240" and 10737418240 alike; null removes. */
function limitsOf(body: { limits: Record<string, number | string | null> }): Record<string, number | null> {
  return Object.fromEntries(
    Object.entries(body.limits).map(([resource, value]) => {
      if (value === null || typeof value === "number") return [resource, value];
      if (!/^\d{1,16}$/.test(value)) {
        throw invalidArgument(`limits.${resource}: must be a whole number`, [
          { field: `limits.${resource}`, description: "must be a whole number (bytes for the sizes)" },
        ]);
      }
      return [resource, Number(value)];
    }),
  );
}

/**
 * Vitrine's own API for quotas (README "Quotas"), in the Yandex conventions (errors, int64 as
 * strings): a project's limits and usage for its members; the defaults, every project's and
 * setting them for the service admin.
 */
export const quotaRoutes: FastifyPluginAsync<QuotaRoutesOptions> = async (base, opts) => {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { quotas } = opts.core;

  const setAll = (principal: Principal, projectId: string | null, body: Parameters<typeof limitsOf>[0]) =>
    quotas.setLimits(principal, projectId, limitsOf(body));

  app.get("/quotas", { schema: { response: answers({ 200: Overview }) } }, async (req) => {
    const overview = await quotas.list(req.principal, MAX_LISTED_PROJECTS);
    return {
      origin: overview.origin,
      defaults: renderLimits(overview.defaults),
      projects: overview.projects.map(renderQuota),
      truncated: overview.truncated,
    };
  });

  app.get(
    "/quotas/:projectId",
    { schema: { params: ProjectParams, response: answers({ 200: ProjectQuotaShape }) } },
    async (req) => renderQuota(await quotas.get(req.principal, req.params.projectId)),
  );

  app.patch(
    "/quotas/:projectId",
    { schema: { params: ProjectParams, body: SetLimits, response: answers({ 200: ProjectQuotaShape }) } },
    async (req) => {
      await setAll(req.principal, req.params.projectId, req.body);
      return renderQuota(await quotas.get(req.principal, req.params.projectId));
    },
  );

  const defaults = async (principal: Principal) => {
    const { origin, defaults: limits } = await quotas.defaults(principal);
    return { origin, defaults: renderLimits(limits) };
  };
  app.get("/quotaDefaults", { schema: { response: answers({ 200: Defaults }) } }, async (req) =>
    defaults(req.principal),
  );
  app.patch(
    "/quotaDefaults",
    { schema: { body: SetLimits, response: answers({ 200: Defaults }) } },
    async (req) => {
      await setAll(req.principal, null, req.body);
      return defaults(req.principal);
    },
  );
};
