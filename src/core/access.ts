import { permissionDenied } from "./errors.js";
import type { Image } from "./image.js";
import type { Principal, Role } from "./principal.js";

export type Action =
  | "images.get"
  | "images.list"
  | "images.create"
  | "images.update"
  | "images.delete"
  | "images.publicize"
  | "images.deactivate"
  | "operations.get"
  | "operations.cancel";

const READ: readonly Action[] = ["images.get", "images.list", "operations.get"];
const WRITE: readonly Action[] = [
  ...READ,
  "images.create",
  "images.update",
  "images.delete",
  "operations.cancel",
];

/** What each role allows in a folder. Publicising and deactivating images stay with the service admin. */
const ROLE_ACTIONS: Record<Role, readonly Action[]> = {
  viewer: READ,
  "compute.images.user": READ,
  editor: WRITE,
  admin: WRITE,
};

/** May `principal` do `action` in `folderId`? */
export function can(principal: Principal, action: Action, folderId: string): boolean {
  if (principal.isAdmin) return true;
  const role = principal.folderRoles[folderId];
  return role !== undefined && ROLE_ACTIONS[role].includes(action);
}

/**
 * The single authorisation decision for every request: may `principal` do `action` in `folderId`?
 * Throws PERMISSION_DENIED when not.
 */
export function authorize(principal: Principal, action: Action, folderId: string): void {
  if (!can(principal, action, folderId)) {
    throw permissionDenied(`Permission denied: ${action} in folder ${folderId}`);
  }
}

/** The folders (= OpenStack projects) the principal acts for: its scope and its bindings. */
export function foldersOf(principal: Principal): string[] {
  return [...new Set([principal.projectId, ...Object.keys(principal.folderRoles)])];
}

/**
 * May `principal` read `image`? Whoever may read its folder; anyone for public and community
 * images; a project the image is shared with (`memberStatus` is that project's membership, in
 * any state: Glance shows a pending share to the member on a direct get).
 */
export function canRead(principal: Principal, image: Image, memberStatus: string | null): boolean {
  if (can(principal, "images.get", image.folderId)) return true;
  if (image.visibility === "public" || image.visibility === "community") return true;
  return image.visibility === "shared" && memberStatus !== null;
}
