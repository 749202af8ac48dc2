import type { ErrorArgs, ErrorReason } from "../../core/errors.js";
import { type QuotaResource, quotaAmount } from "../../core/quotas/quota.js";

const ATTRIBUTE: Record<string, string> = { diskFormat: "disk_format", containerFormat: "container_format" };

/**
 * The core's reasons in Glance's words: what Glance answers in the same situation, so clients
 * and scripts written against Glance see the messages they know. A reason not listed here keeps
 * the core's neutral message; an entry answering null does too.
 */
export const GLANCE_MESSAGES: Partial<Record<ErrorReason, (args: ErrorArgs) => string | null>> = {
  STORAGE_FULL: () => "Image storage media is full.",
  IMAGE_NOT_FOUND: (a) => `No image found with ID ${a.id}`,
  MARKER_NOT_FOUND: (a) => `No image found with ID ${a.marker}`,
  NOT_OWNER: (a) => (a.action === "images.setAccessBindings" ? null : "You do not own this image"),
  FOLDER_ACTION_DENIED: (a) =>
    a.action === "images.create" ? `You are not permitted to create images owned by '${a.folderId}'.` : null,
  PUBLICIZE_DENIED: () => "You are not authorized to complete publicize_image action.",
  FORMAT_FROZEN: (a) =>
    `Attribute ${ATTRIBUTE[a.field ?? ""] ?? a.field} can be only replaced for a queued image.`,
  UUID_TAKEN: (a) => `Image ID ${a.uuid} already exists!`,
  OWNER_CHANGE_DENIED: () => "You are not permitted to modify 'owner' on this image.",
  DEACTIVATE_DENIED: (a) => `You are not authorized to complete ${a.verb} action.`,
  STATUS_NOT_ALLOWED: (a) => `Not allowed to ${a.verb} image in status '${a.status}'`,
  NOT_SHARED: (a) => `Not allowed to create members for image ${a.id}.`,
  MEMBER_CONFLICT: (a) => `Member ${a.member} is duplicated for image ${a.id}`,
  MEMBER_NOT_FOUND: (a) => `${a.member} not found in the member list of the image ${a.id}.`,
  TRANSITION_NOT_ALLOWED: (a) => `Image status transition from ${a.from} to ${a.to} is not allowed`,
  FORMATS_UNSET: (a) => `Properties disk_format, container_format must be set prior to ${a.purpose} data.`,
  URI_REFUSED: (a) => `URI for web-download does not pass filtering: ${a.uri}`,
  DEACTIVATED: () => "The requested image has been deactivated. Image data download is forbidden.",
  PROPERTY_MISSING: (a) => `Property ${a.name} does not exist.`,
  TAG_MISSING: () => "The resource could not be found.",
  // Glance answers an over-limit project with 413 and the quota, its limit, usage and delta (sizes in MiB).
  QUOTA_EXCEEDED: (a) => {
    const resource = a.resource as QuotaResource;
    const amount = (n: string | undefined) => quotaAmount(resource, Number(n));
    return (
      `A quota was exceeded: project ${a.projectId} is over its limit for ${resource}: ` +
      `the limit is ${amount(a.limit)}, the current usage ${amount(a.usage)} and this request needs ${amount(a.requested)} more.`
    );
  },
  NO_STAGED_DATA: (a) =>
    `Image ${a.id} has no staged data: upload it with PUT /v2/images/${a.id}/stage first`,
};
