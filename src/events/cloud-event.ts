import type { EventRecord } from "../core/events/event.js";

/** The CloudEvents 1.0 type prefix (reverse-DNS, as the spec asks). */
export const CLOUD_EVENT_TYPE_PREFIX = "dev.vitrine.";

/**
 * An outbox event as a CloudEvent 1.0 in structured JSON mode (README "Events and audit"): the
 * event's id (a redelivery carries the same), its folder as the source, the resource as the
 * subject, Vitrine's event type under the prefix, and the event's data with who made the change.
 * `sequence` (the CloudEvents sequence extension) orders a folder's events.
 */
export function toCloudEvent(event: EventRecord): Record<string, unknown> {
  return {
    specversion: "1.0",
    id: event.id,
    source: event.folderId === null ? "/vitrine" : `/vitrine/folders/${event.folderId}`,
    type: `${CLOUD_EVENT_TYPE_PREFIX}${event.type}`,
    subject: `${event.resourceType}s/${event.resourceId}`,
    time: new Date(event.createdAt).toISOString(),
    datacontenttype: "application/json",
    sequence: String(event.seq).padStart(20, "0"),
    data: { ...event.data, actor: event.actor },
  };
}
