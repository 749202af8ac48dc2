import { createHash } from "node:crypto";
import type { EventRecord, ImageSnapshot } from "../../core/events/event.js";
import { GIB } from "../../core/image-sizes.js";
import { glanceTime } from "./render.js";
import { GLANCE_STATUS } from "./status.js";

/** One notification as oslo.messaging's notifier sends it (before its envelope). */
export interface GlanceNotification {
  messageId: string;
  eventType: string;
  payload: unknown;
}

/**
 * An outbox event as Glance's notifications (README "Events and audit"): Glance's event types and
 * payload fields where Glance has the event, so that its consumers (Ceilometer) read ours
 * unchanged; Vitrine's own events (bindings, quotas, folders, operations, purges, restores) under
 * their own names with Vitrine's fields. Data that arrived is two notifications, as Glance sends
 * it: `image.upload` then `image.activate`.
 */
export function glanceNotifications(event: EventRecord): GlanceNotification[] {
  const data = event.data;
  const one = (eventType: string, payload: unknown): GlanceNotification => ({
    messageId: eventType === event.type ? event.id : derivedId(event.id, eventType),
    eventType,
    payload,
  });
  if ("bytesSent" in data) {
    return [
      one("image.send", {
        bytes_sent: data.bytesSent,
        image_id: data.image.uuid,
        owner_id: data.image.folderId,
        receiver_tenant_id: data.receiverProject,
        receiver_user_id: data.receiverSubject,
      }),
    ];
  }
  if ("image" in data && "status" in data.image) {
    const image = data.image;
    switch (event.type) {
      case "image.upload":
        return [one("image.upload", imagePayload(image)), one("image.activate", imagePayload(image))];
      case "image.delete":
        return [one("image.delete", imagePayload(image, event.createdAt))];
      case "image.create":
      case "image.prepare":
      case "image.update":
      case "image.deactivate":
      case "image.reactivate":
        return [one(event.type, imagePayload(image))];
      default:
        return [one(event.type, { ...imagePayload(image), vitrine_event: event.type })];
    }
  }
  if ("member" in data) {
    const m = data.member;
    const deleted = event.type === "image.member.delete";
    return [
      one(event.type, {
        image_id: data.image.uuid,
        member_id: m.memberId,
        status: m.status,
        created_at: glanceTime(m.createdAt),
        updated_at: glanceTime(m.updatedAt),
        deleted,
        deleted_at: deleted ? glanceTime(event.createdAt) : null,
      }),
    ];
  }
  return [one(event.type, data)];
}

/** Glance's image notification payload (glance/notifier.py format_image_notification's fields). */
function imagePayload(image: ImageSnapshot, deletedAt: number | null = null): Record<string, unknown> {
  const withData = image.checksumSha512 !== null;
  return {
    id: image.uuid,
    name: image.name === "" ? null : image.name,
    status: GLANCE_STATUS[image.status],
    created_at: glanceTime(image.createdAt),
    updated_at: glanceTime(image.updatedAt),
    min_disk: Math.ceil(image.minDiskSize / GIB),
    min_ram: image.minRam,
    protected: image.protected,
    checksum: image.checksumMd5,
    owner: image.folderId,
    disk_format: image.diskFormat,
    container_format: image.containerFormat,
    size: image.size,
    virtual_size: image.virtualSize,
    is_public: image.visibility === "public",
    visibility: image.visibility,
    properties: image.properties,
    tags: image.tags,
    os_hidden: image.osHidden,
    os_hash_algo: withData ? "sha512" : null,
    os_hash_value: image.checksumSha512,
    deleted: deletedAt !== null,
    deleted_at: deletedAt === null ? null : glanceTime(deletedAt),
  };
}

/** A stable id for the second notification of one event (a redelivery carries the same ids). */
function derivedId(eventId: string, eventType: string): string {
  const h = createHash("sha256").update(`${eventId}/${eventType}`).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * oslo.messaging's v2 envelope around a notification: the message as a JSON string under
 * `oslo.message`, the request's context as `_context_*` keys, the time as Python prints a UTC
 * datetime.
 */
export function osloEnvelope(
  n: GlanceNotification,
  event: EventRecord,
  publisherId: string,
): { "oslo.version": string; "oslo.message": string } {
  const { requestId, subject, project } = event.actor;
  const message = {
    message_id: n.messageId,
    publisher_id: publisherId,
    event_type: n.eventType,
    priority: "INFO",
    payload: n.payload,
    timestamp: pythonUtcTime(event.createdAt),
    _unique_id: n.messageId.replace(/-/g, ""),
    _context_request_id: requestId,
    _context_global_request_id: null,
    _context_user: subject,
    _context_user_id: subject,
    _context_project_id: project,
    _context_tenant: project,
    _context_project: project,
    _context_is_admin: false,
    _context_read_only: false,
    _context_roles: [],
  };
  return { "oslo.version": "2.0", "oslo.message": JSON.stringify(message) };
}

/** `2026-12-03 04:30:00.123000`: str() of a naive UTC datetime, as oslo's notifier stamps messages. */
function pythonUtcTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}000`;
}
