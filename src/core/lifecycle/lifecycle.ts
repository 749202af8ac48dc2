import { failedPrecondition, invalidArgument } from "../errors.js";
import type { Deprecation, Image } from "../image.js";

/**
 * The vocabulary of image lifecycle (README "Lifecycle"): deprecation and its scheduled
 * transitions, the recycle bin, retention rules per family, last use.
 */

/** What a scheduled transition does to an image when its time comes. */
export type TransitionTarget = "DEPRECATED" | "OBSOLETE" | "DELETED";

/** What a retention rule does to the images of a family beyond the newest `keep`. */
export type RetentionAction = "DEPRECATE" | "OBSOLETE" | "DELETE";

export const RETENTION_ACTIONS: readonly RetentionAction[] = ["DEPRECATE", "OBSOLETE", "DELETE"];

/** Keep the newest `keep` images of a family that hold data; `action` the rest, `afterSeconds` after a newer one displaced each. */
export interface RetentionRule {
  folderId: string;
  family: string;
  keep: number;
  action: RetentionAction;
  afterSeconds: number;
  createdAt: number;
}

/** The transition a retention action schedules. */
export const TARGET_OF: Record<RetentionAction, TransitionTarget> = {
  DEPRECATE: "DEPRECATED",
  OBSOLETE: "OBSOLETE",
  DELETE: "DELETED",
};

/** The longest recycle-bin retention and rule delay accepted: ten years. */
export const MAX_SECONDS = 10 * 366 * 86_400;

/** The deprecation field each transition's time is kept in. */
const DUE_FIELD = {
  DEPRECATED: "deprecateAt",
  OBSOLETE: "obsoleteAt",
  DELETED: "deleteAt",
} as const satisfies Record<TransitionTarget, keyof Deprecation>;

/** When the image is due to make a transition, or null. */
export function dueTimeOf(image: Image, target: TransitionTarget): number | null {
  return image.deprecation[DUE_FIELD[target]];
}

/** The image due to make a transition at `at`. */
export function withDueTime(image: Image, target: TransitionTarget, at: number): Image {
  return { ...image, deprecation: { ...image.deprecation, [DUE_FIELD[target]]: at } };
}

/** Whether the image has reached (or passed) a transition's state already. */
export function hasReached(image: Image, target: TransitionTarget): boolean {
  if (target === "DELETED") return false;
  const rank = { ACTIVE: 0, DEPRECATED: 1, OBSOLETE: 2 } as const;
  return rank[image.deprecation.state] >= rank[target];
}

export function checkSeconds(field: string, value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > MAX_SECONDS) {
    throw invalidArgument(`${field}: must be a whole number of seconds from 0 to ${MAX_SECONDS}`, [
      { field, description: "out of range" },
    ]);
  }
  return value;
}

/** Obsolete images refuse new use (create from them; downloads by non-admins). */
export const isObsolete = (image: Image): boolean => image.deprecation.state === "OBSOLETE";

/** Nothing is created from an obsolete image; the refusal names the replacement when there is one. */
export function assertNotObsolete(image: Image): void {
  if (!isObsolete(image)) return;
  const replacement = image.deprecation.replacement;
  throw failedPrecondition(
    `Image ${image.id} is obsolete${replacement ? `; use its replacement ${replacement.id}` : ""}`,
  ).because("IMAGE_OBSOLETE", { id: image.id, replacement: replacement?.id ?? "" });
}

/** A time as people read it in a description: ISO 8601, whole seconds. */
// Sliced, not replaced by a pattern: this runs for every timestamp of every image rendered.
export const wholeSeconds = (ms: number): string => `${new Date(ms).toISOString().slice(0, 19)}Z`;
