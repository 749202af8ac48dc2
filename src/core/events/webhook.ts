import { randomBytes } from "node:crypto";
import { authorize } from "../access.js";
import { invalidArgument, notFound } from "../errors.js";
import { newResourceId } from "../ids.js";
import type { CoreDeps } from "../core-deps.js";
import type { Principal } from "../principal.js";
import { EVENT_TYPES, typeMatches } from "./event.js";

/** A folder's webhook: its events, as CloudEvents, POSTed to `url` and signed with `secret`. */
export interface WebhookSubscription {
  id: string;
  folderId: string;
  url: string;
  /** The HMAC-SHA256 key deliveries are signed with (shown once, at creation). */
  secret: string;
  /** Event type patterns ("image.*"); empty: every type. */
  types: string[];
  description: string;
  createdBy: string;
  createdAt: number;
}

export interface WebhookDelivery {
  id: string;
  subscriptionId: string;
  eventSeq: number;
  /** The CloudEvent as delivered. */
  event: Record<string, unknown>;
  status: "pending" | "delivered" | "dead";
  attempts: number;
  nextAttemptAt: number;
  lastError: string | null;
  createdAt: number;
  finishedAt: number | null;
}

export interface NewSubscription {
  folderId: string;
  url: string;
  types?: string[];
  description?: string;
  /** Given by the caller, or made here (32 random bytes, base64url). */
  secret?: string;
}

/** The most subscriptions a folder holds. */
export const MAX_SUBSCRIPTIONS_PER_FOLDER = 20;

function checkTypes(types: string[]): void {
  for (const [i, pattern] of types.entries()) {
    const known = pattern === "*" || EVENT_TYPES.some((t) => typeMatches(pattern, t));
    if (!known) {
      const description = `matches no event type (see README "Events and audit")`;
      throw invalidArgument(`types[${i}]: ${pattern} ${description}`, [
        { field: `types[${i}]`, description },
      ]);
    }
  }
}

/** Subscriptions of a folder's events, managed by the folder's admins (README "Events and audit"). */
export function webhookSubscriptions(deps: Pick<CoreDeps, "catalog" | "urls">) {
  const { catalog } = deps;

  async function load(principal: Principal, id: string): Promise<WebhookSubscription> {
    const sub = await catalog.webhooks.find(id);
    if (!sub) throw notFound(`Webhook subscription ${id} not found`);
    authorize(principal, "folders.manageWebhooks", sub.folderId);
    return sub;
  }

  return {
    async create(principal: Principal, input: NewSubscription): Promise<WebhookSubscription> {
      authorize(principal, "folders.manageWebhooks", input.folderId);
      deps.urls.check(input.url, "url");
      const types = input.types ?? [];
      checkTypes(types);
      if (input.secret !== undefined && input.secret.length < 16) {
        const description = "must be at least 16 characters";
        throw invalidArgument(`secret: ${description}`, [{ field: "secret", description }]);
      }
      const existing = await catalog.webhooks.list(input.folderId);
      if (existing.length >= MAX_SUBSCRIPTIONS_PER_FOLDER) {
        const description = `a folder holds at most ${MAX_SUBSCRIPTIONS_PER_FOLDER} subscriptions`;
        throw invalidArgument(description, [{ field: "folderId", description }]);
      }
      const sub: WebhookSubscription = {
        id: newResourceId(),
        folderId: input.folderId,
        url: input.url,
        secret: input.secret ?? randomBytes(32).toString("base64url"),
        types,
        description: input.description ?? "",
        createdBy: principal.subjectId,
        createdAt: Date.now(),
      };
      await catalog.webhooks.insert(sub);
      return sub;
    },
    get: load,
    async list(principal: Principal, folderId: string): Promise<WebhookSubscription[]> {
      authorize(principal, "folders.manageWebhooks", folderId);
      return catalog.webhooks.list(folderId);
    },
    async delete(principal: Principal, id: string): Promise<void> {
      await load(principal, id);
      await catalog.webhooks.delete(id);
    },
    /** Deliveries of one status (`dead`: the dead-letter view), newest first. */
    async deliveries(
      principal: Principal,
      id: string,
      status: WebhookDelivery["status"] | null,
      limit: number,
      beforeSeq?: number,
    ): Promise<{ deliveries: WebhookDelivery[]; more: boolean }> {
      await load(principal, id);
      const rows = await catalog.webhooks.deliveries(id, status, limit, beforeSeq);
      return { deliveries: rows.slice(0, limit), more: rows.length > limit };
    },
    /** Sends a dead delivery again (its attempts start over). */
    async redeliver(principal: Principal, id: string, deliveryId: string): Promise<void> {
      await load(principal, id);
      if (!(await catalog.webhooks.redeliver(id, deliveryId, Date.now()))) {
        throw notFound(`No dead delivery ${deliveryId} in subscription ${id}`);
      }
    },
  };
}

export type WebhookSubscriptions = ReturnType<typeof webhookSubscriptions>;
