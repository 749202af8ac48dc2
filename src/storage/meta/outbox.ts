import {
  bindingEvent,
  folderEvent,
  imageChanged,
  imageCreated,
  imageRemoved,
  memberEvent,
  operationEvent,
  quotaEvent,
} from "../../core/events/event.js";
import type { CatalogStores } from "../../core/ports/catalog.js";

/**
 * The outbox (README "Events and audit"): the stores of one transaction, each change also writing
 * its event there, so that an event exists if and only if its change committed. The core names
 * the events (core/events/event.ts); here every write that changes something is caught, so no use
 * case can forget one.
 */
export function recordingEvents(s: CatalogStores): CatalogStores {
  const events = s.events;
  const folderOfImage = async (id: string) => (await s.images.findById(id))?.folderId ?? null;
  return {
    ...s,
    images: overriding(s.images, {
      async insert(image) {
        await s.images.insert(image);
        await events.append(imageCreated(image));
      },
      async save(current, next, now) {
        const saved = await s.images.save(current, next, now);
        if (saved) await events.append(imageChanged(current, saved));
        return saved;
      },
      async delete(id) {
        const image = await s.images.findById(id);
        await s.images.delete(id);
        if (image) await events.append(imageRemoved(image));
      },
    }),
    members: overriding(s.members, {
      async insert(member) {
        await s.members.insert(member);
        const image = await s.images.findById(member.imageId);
        if (image) await events.append(memberEvent("image.member.create", member, image));
      },
      async setStatus(imageId, memberId, status, now) {
        await s.members.setStatus(imageId, memberId, status, now);
        const [member, image] = await Promise.all([
          s.members.find(imageId, memberId),
          s.images.findById(imageId),
        ]);
        if (member && image) await events.append(memberEvent("image.member.update", member, image));
      },
      async delete(imageId, memberId) {
        const member = await s.members.find(imageId, memberId);
        await s.members.delete(imageId, memberId);
        const image = await s.images.findById(imageId);
        if (member && image) await events.append(memberEvent("image.member.delete", member, image));
      },
    }),
    bindings: overriding(s.bindings, {
      async add(type, resourceId, binding) {
        const added = await s.bindings.add(type, resourceId, binding);
        const folderId = !added ? null : type === "folder" ? resourceId : await folderOfImage(resourceId);
        if (folderId !== null) {
          await events.append(
            bindingEvent("access_binding.create", { type, id: resourceId }, binding, folderId),
          );
        }
        return added;
      },
      async remove(type, resourceId, binding) {
        const removed = await s.bindings.remove(type, resourceId, binding);
        const folderId = !removed ? null : type === "folder" ? resourceId : await folderOfImage(resourceId);
        if (folderId !== null) {
          await events.append(
            bindingEvent("access_binding.delete", { type, id: resourceId }, binding, folderId),
          );
        }
        return removed;
      },
    }),
    quotas: overriding(s.quotas, {
      async setLimit(projectId, resource, value) {
        await s.quotas.setLimit(projectId, resource, value);
        await events.append(quotaEvent(projectId, resource, value));
      },
    }),
    lifecycle: overriding(s.lifecycle, {
      async setBinRetention(folderId, seconds) {
        await s.lifecycle.setBinRetention(folderId, seconds);
        await events.append(folderEvent("folder.update", folderId, "binRetentionSeconds", seconds));
      },
      async putRule(rule) {
        await s.lifecycle.putRule(rule);
        await events.append(folderEvent("retention_rule.update", rule.folderId, rule.family, rule));
      },
      async deleteRule(folderId, family) {
        const deleted = await s.lifecycle.deleteRule(folderId, family);
        if (deleted) await events.append(folderEvent("retention_rule.delete", folderId, family, null));
        return deleted;
      },
    }),
    folders: overriding(s.folders, {
      async setConversion(folderId, policy) {
        await s.folders.setConversion(folderId, policy);
        await events.append(folderEvent("folder.update", folderId, "conversion", policy));
      },
    }),
    operations: overriding(s.operations, {
      async insert(op, now) {
        const stored = await s.operations.insert(op, now);
        await events.append(operationEvent("operation.create", stored));
        return stored;
      },
      async finish(id, owner, result, now) {
        const finished = await s.operations.finish(id, owner, result, now);
        const op = finished ? await s.operations.findById(id) : null;
        if (op) await events.append(operationEvent("operation.done", op));
        return finished;
      },
    }),
  };
}

/** Which writes change something an event tells of (those `recordingEvents` overrides). */
const CHANGES = {
  images: ["insert", "save", "delete"],
  members: ["insert", "setStatus", "delete"],
  bindings: ["add", "remove"],
  quotas: ["setLimit"],
  lifecycle: ["setBinRetention", "putRule", "deleteRule"],
  folders: ["setConversion"],
  operations: ["insert", "finish"],
} as const satisfies Partial<Record<keyof CatalogStores, readonly string[]>>;

/**
 * The stores outside any transaction: each change runs in a transaction of its own (the change
 * and its event commit together); reads go straight to the database.
 */
export function changesInTransactions(
  s: CatalogStores,
  transaction: <T>(work: (tx: CatalogStores) => Promise<T>) => Promise<T>,
): CatalogStores {
  const wrapped: Record<string, unknown> = { ...s };
  for (const [store, methods] of Object.entries(CHANGES) as [keyof typeof CHANGES, readonly string[]][]) {
    const overrides: Record<string, unknown> = {};
    for (const method of methods) {
      overrides[method] = (...args: unknown[]) =>
        transaction((tx) =>
          (tx[store] as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[method]!(...args),
        );
    }
    wrapped[store] = overriding(s[store] as object, overrides);
  }
  return wrapped as unknown as CatalogStores;
}

/** `store` with some methods replaced; the others still called on the store itself. */
function overriding<T extends object>(store: T, methods: Partial<T> | Record<string, unknown>): T {
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (typeof prop === "string" && Object.hasOwn(methods, prop))
        return (methods as Record<string, unknown>)[prop];
      const value: unknown = Reflect.get(target, prop, receiver);
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
