import { permissionDenied, unauthenticated } from "./errors.js";
import type { Image } from "./image.js";
import type { Principal, Role } from "./principal.js";
import { ownEntry } from "./own-entry.js";

export type Action =
  | "images.get"
  | "images.list"
  /** Use an image as a source: create images (and disks) from it. */
  | "images.use"
  | "images.create"
  | "images.update"
  | "images.delete"
  | "images.listAccessBindings"
  | "images.setAccessBindings"
  | "images.publicize"
  | "images.deactivate"
  | "operations.get"
  | "operations.cancel"
  /** Subscribe webhooks to a folder's events (README "Events and audit"). */
  | "folders.manageWebhooks";

const VIEW: readonly Action[] = ["images.get", "images.list", "images.listAccessBindings", "operations.get"];
const EDIT: readonly Action[] = [
  ...VIEW,
  "images.use",
  "images.create",
  "images.update",
  "images.delete",
  // Glance's default policy since secure RBAC: members of the owning project deactivate and
  // reactivate; reading a deactivated image's data stays the service admin's.
  "images.deactivate",
  "operations.cancel",
];

/**
 * What each role allows, on a folder or on one image. Publicising images stays with the service
 * admin (Glance's default policy), whatever the bindings.
 */
const ROLE_ACTIONS: Record<Role, readonly Action[]> = {
  viewer: VIEW,
  "compute.images.user": ["images.get", "images.list", "images.use", "operations.get"],
  editor: EDIT,
  admin: [...EDIT, "images.setAccessBindings", "folders.manageWebhooks"],
};

/** What anyone who can see an image through its visibility or a share may do with it. */
const VISIBLE_ACTIONS: readonly Action[] = ["images.get", "images.use"];

export const ROLES = Object.keys(ROLE_ACTIONS) as Role[];

/** Roles that may be granted to everyone (`system` subjects): reading and using, never writing. */
export const SYSTEM_GRANTABLE_ROLES: readonly Role[] = ["viewer", "compute.images.user"];

export function isRole(value: string): value is Role {
  return Object.hasOwn(ROLE_ACTIONS, value);
}

export function roleAllows(role: Role, action: Action): boolean {
  return ROLE_ACTIONS[role].includes(action);
}

/** May `principal` do `action` in `folderId` (through its folder roles)? */
export function can(principal: Principal, action: Action, folderId: string): boolean {
  if (principal.isAdmin) return true;
  // Own keys only: a folder id may be any string, "constructor" and "__proto__" included.
  const roles = ownEntry(principal.folderRoles, folderId) ?? [];
  return roles.some((role) => roleAllows(role, action));
}

/**
 * The folder-level authorisation decision: may `principal` do `action` in `folderId`? Throws
 * UNAUTHENTICATED for an anonymous caller and PERMISSION_DENIED for anyone else refused.
 */
export function authorize(principal: Principal, action: Action, folderId: string): void {
  if (can(principal, action, folderId)) return;
  if (principal.anonymous) throw unauthenticated("Authentication required");
  throw permissionDenied(`Permission denied: ${action} in folder ${folderId}`).because(
    "FOLDER_ACTION_DENIED",
    {
      action,
      folderId,
    },
  );
}

/** The folders (= OpenStack projects) the principal acts for: its scope and its bindings. */
export function foldersOf(principal: Principal): string[] {
  if (principal.anonymous) return [];
  return [...new Set([principal.projectId, ...Object.keys(principal.folderRoles)])];
}

/** Everything the decision on one image depends on beyond the principal and the image. */
export interface ImageGrants {
  /** Roles bound on this image to the caller or to a `system` subject that includes it. */
  imageRoles: readonly Role[];
  /** The caller's projects' membership in a shared image, in any state (null: not a member). */
  memberStatus: string | null;
}

/**
 * The single decision on one image: may `principal` do `action` on `image`? Through the folder's
 * roles; through roles bound on the image itself; and, for reading and using, through the
 * image's visibility — public and community images are everyone's (authenticated), a shared
 * image is its members' (Glance shows a pending share to the member on a direct get).
 */
export function canOnImage(principal: Principal, action: Action, image: Image, grants: ImageGrants): boolean {
  // Without credentials one may at most read an image bound to allUsers.
  if (principal.anonymous && action !== "images.get") return false;
  if (can(principal, action, image.folderId)) return true;
  if (grants.imageRoles.some((r) => roleAllows(r, action))) return true;
  if (!VISIBLE_ACTIONS.includes(action) || principal.anonymous) return false;
  if (image.visibility === "public" || image.visibility === "community") return true;
  return image.visibility === "shared" && grants.memberStatus !== null;
}

/** The subject ids whose image bindings apply to `principal`: its own and the `system` groups it is in. */
export function bindingSubjectsOf(principal: Principal): string[] {
  return principal.anonymous ? ["allUsers"] : [principal.subjectId, "allAuthenticatedUsers", "allUsers"];
}
