import type { FastifyPluginAsync } from "fastify";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { Authenticator } from "../../auth/authenticator.js";
import type { Core } from "../../core/core.js";
import type { AuditRecord } from "../../core/events/audit.js";
import type { WebhookDelivery, WebhookSubscription } from "../../core/events/webhook.js";
import { invalidArgument } from "../../core/errors.js";
import { answers } from "../http/response-shapes.js";
import { timestamp } from "../yandex/json.js";
import { readPage } from "../yandex/listing.js";
import { Timestamp } from "../yandex/responses.js";
import { PageQuery } from "../yandex/schemas.js";

export interface EventRoutesOptions {
  core: Core;
  auth: Authenticator;
}

const Subscription = Type.Object(
  {
    id: Type.String(),
    folderId: Type.String(),
    url: Type.String(),
    types: Type.Array(Type.String()),
    description: Type.String(),
    createdBy: Type.String(),
    createdAt: Timestamp,
    secret: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
const CreateSubscription = Type.Object(
  {
    folderId: Type.String({ minLength: 1, maxLength: 50 }),
    url: Type.String({ minLength: 1, maxLength: 2048 }),
    types: Type.Optional(Type.Array(Type.String({ maxLength: 100 }), { maxItems: 50 })),
    description: Type.Optional(Type.String({ maxLength: 256 })),
    secret: Type.Optional(Type.String({ maxLength: 256 })),
  },
  { additionalProperties: false },
);
const Delivery = Type.Object(
  {
    id: Type.String(),
    subscriptionId: Type.String(),
    eventId: Type.String(),
    eventType: Type.String(),
    status: Type.Union([Type.Literal("pending"), Type.Literal("delivered"), Type.Literal("dead")]),
    attempts: Type.Integer(),
    nextAttemptAt: Type.Optional(Timestamp),
    lastError: Type.Optional(Type.String()),
    createdAt: Timestamp,
    finishedAt: Type.Optional(Timestamp),
  },
  { additionalProperties: false },
);
const Record_ = Type.Object(
  {
    time: Timestamp,
    requestId: Type.String(),
    subject: Type.Optional(Type.String()),
    project: Type.Optional(Type.String()),
    dialect: Type.String(),
    method: Type.String(),
    action: Type.String(),
    resource: Type.Optional(Type.String()),
    decision: Type.String(),
    status: Type.Integer(),
    reason: Type.Optional(Type.String()),
    source: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
const Empty = Type.Object({}, { additionalProperties: false });
const WebhookParams = Type.Object({ webhookId: Type.String() });
const DeliveryParams = Type.Object({ webhookId: Type.String(), deliveryId: Type.String() });

function renderSubscription(sub: WebhookSubscription, withSecret = false) {
  return {
    id: sub.id,
    folderId: sub.folderId,
    url: sub.url,
    types: sub.types,
    description: sub.description,
    createdBy: sub.createdBy,
    createdAt: timestamp(sub.createdAt),
    ...(withSecret ? { secret: sub.secret } : {}),
  };
}

function renderDelivery(d: WebhookDelivery) {
  return {
    id: d.id,
    subscriptionId: d.subscriptionId,
    eventId: String(d.event.id),
    eventType: String(d.event.type),
    status: d.status,
    attempts: d.attempts,
    ...(d.status === "pending" ? { nextAttemptAt: timestamp(d.nextAttemptAt) } : {}),
    ...(d.lastError !== null ? { lastError: d.lastError } : {}),
    createdAt: timestamp(d.createdAt),
    ...(d.finishedAt !== null ? { finishedAt: timestamp(d.finishedAt) } : {}),
  };
}

function renderRecord(r: AuditRecord) {
  const optional = (name: string, value: string | null) => (value === null ? {} : { [name]: value });
  return {
    time: timestamp(r.at),
    requestId: r.requestId,
    ...optional("subject", r.subject),
    ...optional("project", r.project),
    dialect: r.dialect,
    method: r.method,
    action: r.action,
    ...optional("resource", r.resource),
    decision: r.decision,
    status: r.status,
    ...optional("reason", r.reason),
    ...optional("source", r.source),
  };
}

/** A page token here is the sequence number to go on from. */
function seqToken(token: string): number | undefined {
  if (token === "") return undefined;
  if (!/^\d{1,18}$/.test(token)) throw invalidArgument("pageToken: not a page token of this list");
  return Number(token);
}

/** An RFC 3339 time in a query, or the fallback when absent. */
function timeParam(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === "") return fallback;
  const ms = Date.parse(value);
  if (!Number.isFinite(ms) || !/^\d{4}-\d\d-\d\dT/.test(value)) {
    const description = "must be an RFC 3339 time such as 2026-12-03T10:00:00Z";
    throw invalidArgument(`${name}: ${description}`, [{ field: name, description }]);
  }
  return ms;
}

const DECISIONS = ["allowed", "denied", "failed"] as const;

/**
 * Webhook subscriptions (a folder's admins) and the audit records (the service admin), in
 * Vitrine's API under the Yandex conventions (README "Events and audit").
 */
export const eventRoutes: FastifyPluginAsync<EventRoutesOptions> = async (base, opts) => {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { webhooks, audit } = opts.core;

  app.post(
    "/webhooks",
    { schema: { body: CreateSubscription, response: answers({ 200: Subscription }) } },
    async (req) => renderSubscription(await webhooks.create(req.principal, req.body), true),
  );

  app.get(
    "/webhooks",
    {
      schema: {
        querystring: Type.Object({ folderId: Type.Optional(Type.String()) }),
        response: answers({
          200: Type.Object({ webhooks: Type.Array(Subscription) }, { additionalProperties: false }),
        }),
      },
    },
    async (req) => {
      const folderId = req.query.folderId ?? "";
      if (folderId === "") {
        throw invalidArgument("folderId: required", [{ field: "folderId", description: "required" }]);
      }
      return { webhooks: (await webhooks.list(req.principal, folderId)).map((s) => renderSubscription(s)) };
    },
  );

  app.get(
    "/webhooks/:webhookId",
    { schema: { params: WebhookParams, response: answers({ 200: Subscription }) } },
    async (req) => renderSubscription(await webhooks.get(req.principal, req.params.webhookId)),
  );

  app.delete(
    "/webhooks/:webhookId",
    { schema: { params: WebhookParams, response: answers({ 200: Empty }) } },
    async (req) => {
      await webhooks.delete(req.principal, req.params.webhookId);
      return {};
    },
  );

  app.get(
    "/webhooks/:webhookId/deliveries",
    {
      schema: {
        params: WebhookParams,
        querystring: Type.Intersect([PageQuery, Type.Object({ status: Type.Optional(Type.String()) })]),
        response: answers({
          200: Type.Object(
            { deliveries: Type.Array(Delivery), nextPageToken: Type.Optional(Type.String()) },
            { additionalProperties: false },
          ),
        }),
      },
    },
    async (req) => {
      const { pageSize, pageToken } = readPage(req.query, 100);
      const status = req.query.status ?? null;
      if (status !== null && status !== "pending" && status !== "delivered" && status !== "dead") {
        const description = "must be pending, delivered or dead";
        throw invalidArgument(`status: ${description}`, [{ field: "status", description }]);
      }
      const page = await webhooks.deliveries(
        req.principal,
        req.params.webhookId,
        status,
        pageSize,
        seqToken(pageToken),
      );
      const last = page.deliveries.at(-1);
      return {
        deliveries: page.deliveries.map(renderDelivery),
        ...(page.more && last ? { nextPageToken: String(last.eventSeq) } : {}),
      };
    },
  );

  app.post(
    "/webhooks/:webhookId/deliveries/:deliveryId/redeliver",
    { schema: { params: DeliveryParams, response: answers({ 200: Empty }) } },
    async (req) => {
      await webhooks.redeliver(req.principal, req.params.webhookId, req.params.deliveryId);
      return {};
    },
  );

  app.get(
    "/audit",
    {
      schema: {
        querystring: Type.Intersect([
          PageQuery,
          Type.Object({
            since: Type.Optional(Type.String()),
            until: Type.Optional(Type.String()),
            subject: Type.Optional(Type.String()),
            decision: Type.Optional(Type.String()),
          }),
        ]),
        response: answers({
          200: Type.Object(
            { records: Type.Array(Record_), nextPageToken: Type.Optional(Type.String()) },
            { additionalProperties: false },
          ),
        }),
      },
    },
    async (req) => {
      const { pageSize, pageToken } = readPage(req.query, 100);
      const now = Date.now();
      const decision = req.query.decision;
      if (decision !== undefined && !(DECISIONS as readonly string[]).includes(decision)) {
        const description = "must be allowed, denied or failed";
        throw invalidArgument(`decision: ${description}`, [{ field: "decision", description }]);
      }
      const page = await audit.list(req.principal, {
        since: timeParam("since", req.query.since, now - 86_400_000),
        until: timeParam("until", req.query.until, now + 1),
        ...(req.query.subject ? { subject: req.query.subject } : {}),
        ...(decision ? { decision: decision as AuditRecord["decision"] } : {}),
        afterSeq: seqToken(pageToken),
        limit: pageSize,
      });
      const last = page.records.at(-1);
      return {
        records: page.records.map(renderRecord),
        ...(page.more && last ? { nextPageToken: String(last.seq) } : {}),
      };
    },
  );
};
