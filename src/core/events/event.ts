import type { AccessBinding } from "../access-binding.js";
import type { Image, ImageStatus } from "../image.js";
import type { ImageMember } from "../member.js";
import type { Operation } from "../operation.js";

/**
 * What the outbox records (README "Events and audit"): one event per change, named after Glance's
 * notifications where Glance has one. `image.upload` is data that arrived and made the image
 * active (Glance's notifier sends it as `image.upload` and `image.activate`).
 */
export const EVENT_TYPES = [
  "image.create",
  "image.prepare",
  "image.upload",
  "image.update",
  "image.deactivate",
  "image.reactivate",
  "image.delete",
  "image.restore",
  "image.purge",
  "image.send",
  "image.member.create",
  "image.member.update",
  "image.member.delete",
  "access_binding.create",
  "access_binding.delete",
  "quota.update",
  "folder.update",
  "retention_rule.update",
  "retention_rule.delete",
  "operation.create",
  "operation.done",
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

export type EventResource = "image" | "member" | "access_binding" | "quota" | "folder" | "operation";

/** An event as a change (or a download) produces it; the outbox adds its sequence, id, time and actor. */
export interface NewEvent {
  type: EventType;
  resourceType: EventResource;
  resourceId: string;
  /** The image the event is about: events of one image are delivered in the order they happened. */
  imageId: string | null;
  /** The image's version after the change (each committed change of an image has one event). */
  imageVersion: number | null;
  /** The folder (OpenStack project) whose subscribers receive it; null: the installation's (default quotas). */
  folderId: string | null;
  data: EventData;
}

/** Who made a change: the request (or the operation's) id, the subject and its project, where from. */
export interface EventActor {
  requestId: string | null;
  subject: string | null;
  project: string | null;
}

export interface EventRecord extends NewEvent {
  seq: number;
  id: string;
  createdAt: number;
  actor: EventActor;
}

/** What an image event tells of the image: all but its blob key and source URLs (a pre-signed URL carries credentials). */
const SNAPSHOT_FIELDS = [
  "id",
  "uuid",
  "kind",
  "folderId",
  "name",
  "description",
  "family",
  "labels",
  "status",
  "visibility",
  "protected",
  "osHidden",
  "tags",
  "properties",
  "diskFormat",
  "containerFormat",
  "minDiskSize",
  "minRam",
  "size",
  "virtualSize",
  "checksumMd5",
  "checksumSha512",
  "stores",
  "createdAt",
  "updatedAt",
  "version",
] as const satisfies readonly (keyof Image)[];

export type ImageSnapshot = Pick<Image, (typeof SNAPSHOT_FIELDS)[number]>;

export type EventData =
  | { image: ImageSnapshot; previousStatus?: ImageStatus }
  | { image: ImageSnapshot; bytesSent: number; receiverProject: string; receiverSubject: string }
  | { member: ImageMember; image: { id: string; uuid: string } }
  | { binding: AccessBinding; resource: { type: "folder" | "image"; id: string } }
  | { projectId: string | null; resource: string; limit: number | null }
  | { folderId: string; setting: string; value: unknown }
  | { operation: OperationSummary };

export interface OperationSummary {
  id: string;
  kind: Operation["kind"];
  resourceId: string;
  description: string;
  createdBy: string;
  createdAt: number;
  done: boolean;
  error: Operation["error"];
}

export function snapshotOf(image: Image): ImageSnapshot {
  return Object.fromEntries(SNAPSHOT_FIELDS.map((f) => [f, image[f]])) as ImageSnapshot;
}

const RECEIVING: readonly ImageStatus[] = ["saving", "importing", "uploading"];
const GONE: readonly ImageStatus[] = ["deleting", "binned"];

function imageEvent(type: EventType, image: Image, previousStatus?: ImageStatus): NewEvent {
  return {
    type,
    resourceType: "image",
    resourceId: image.id,
    imageId: image.id,
    imageVersion: image.version,
    folderId: image.folderId,
    data:
      previousStatus === undefined
        ? { image: snapshotOf(image) }
        : { image: snapshotOf(image), previousStatus },
  };
}

export const imageCreated = (image: Image): NewEvent => imageEvent("image.create", image);

/** The one event a saved change of an image is: its status says which, any other change is an update. */
export function imageChanged(before: Image, after: Image): NewEvent {
  const from = before.status;
  const to = after.status;
  let type: EventType = "image.update";
  if (from !== to) {
    if (RECEIVING.includes(to) && !RECEIVING.includes(from)) type = "image.prepare";
    else if (to === "active" && RECEIVING.includes(from)) type = "image.upload";
    else if (to === "deactivated") type = "image.deactivate";
    else if (from === "deactivated" && to === "active") type = "image.reactivate";
    else if (GONE.includes(to) && !GONE.includes(from)) type = "image.delete";
    else if (from === "binned") type = "image.restore";
  }
  return imageEvent(type, after, from);
}

/**
 * An image's row removed: `image.purge` when its deletion was already announced (it went through
 * deleting or the recycle bin), `image.delete` when it goes at once (a create that failed).
 */
export function imageRemoved(image: Image): NewEvent {
  const gone = { ...image, version: image.version + 1 };
  return imageEvent(GONE.includes(image.status) ? "image.purge" : "image.delete", gone, image.status);
}

/** Data sent to a client in full or in part (Glance's `image.send`): not a change, but billed. */
export function imageSent(
  image: Image,
  bytesSent: number,
  receiver: { project: string; subject: string },
): NewEvent {
  return {
    type: "image.send",
    resourceType: "image",
    resourceId: image.id,
    imageId: image.id,
    imageVersion: null,
    folderId: image.folderId,
    data: {
      image: snapshotOf(image),
      bytesSent,
      receiverProject: receiver.project,
      receiverSubject: receiver.subject,
    },
  };
}

export function memberEvent(
  type: "image.member.create" | "image.member.update" | "image.member.delete",
  member: ImageMember,
  image: Pick<Image, "id" | "uuid" | "folderId">,
): NewEvent {
  return {
    type,
    resourceType: "member",
    resourceId: `${member.imageId}/${member.memberId}`,
    imageId: member.imageId,
    imageVersion: null,
    folderId: image.folderId,
    data: { member, image: { id: image.id, uuid: image.uuid } },
  };
}

export function bindingEvent(
  type: "access_binding.create" | "access_binding.delete",
  resource: { type: "folder" | "image"; id: string },
  binding: AccessBinding,
  folderId: string,
): NewEvent {
  return {
    type,
    resourceType: "access_binding",
    resourceId: `${resource.type}/${resource.id}/${binding.roleId}/${binding.subject.id}`,
    imageId: null,
    imageVersion: null,
    folderId,
    data: { binding, resource },
  };
}

export function quotaEvent(projectId: string | null, resource: string, limit: number | null): NewEvent {
  return {
    type: "quota.update",
    resourceType: "quota",
    resourceId: `${projectId ?? "default"}/${resource}`,
    imageId: null,
    imageVersion: null,
    folderId: projectId,
    data: { projectId, resource, limit },
  };
}

export function folderEvent(
  type: "folder.update" | "retention_rule.update" | "retention_rule.delete",
  folderId: string,
  setting: string,
  value: unknown,
): NewEvent {
  return {
    type,
    resourceType: "folder",
    resourceId: type === "folder.update" ? folderId : `${folderId}/${setting}`,
    imageId: null,
    imageVersion: null,
    folderId,
    data: { folderId, setting, value },
  };
}

export function operationEvent(type: "operation.create" | "operation.done", op: Operation): NewEvent {
  return {
    type,
    resourceType: "operation",
    resourceId: op.id,
    imageId: null,
    imageVersion: null,
    folderId: op.folderId,
    data: {
      operation: {
        id: op.id,
        kind: op.kind,
        resourceId: op.resourceId,
        description: op.description,
        createdBy: op.createdBy,
        createdAt: op.createdAt,
        done: op.done,
        error: op.error,
      },
    },
  };
}

/** Whether a subscription's type pattern ("image.*", "image.member.create", "*") takes the type. */
export function typeMatches(pattern: string, type: string): boolean {
  if (pattern === "*" || pattern === type) return true;
  return pattern.endsWith(".*") && type.startsWith(pattern.slice(0, -1));
}
