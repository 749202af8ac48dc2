import { AsyncLocalStorage } from "node:async_hooks";
import type { EventActor } from "../core/events/event.js";

/**
 * Who is acting in the code running now: the request being answered (its principal is known
 * only once the dialect authenticated it, so it is read when asked) or the operation a worker runs.
 * The outbox stamps each event with it; nothing else is carried.
 */
export interface ActingScope {
  requestId: string | null;
  principal(): { subjectId: string; projectId: string } | undefined;
}

const scopes = new AsyncLocalStorage<ActingScope>();

/** Runs `work` (and everything it starts) as `scope`. */
export function actingAs<T>(scope: ActingScope, work: () => T): T {
  return scopes.run(scope, work);
}

/** The actor of the code running now; all null outside any request or operation (upkeep). */
export function currentActor(): EventActor {
  const scope = scopes.getStore();
  const principal = scope?.principal();
  return {
    requestId: scope?.requestId ?? null,
    subject: principal?.subjectId ?? null,
    project: principal?.projectId || null,
  };
}
