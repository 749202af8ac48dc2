import { permissionDenied } from "./errors.js";
import type { Principal } from "./principal.js";

export type Action =
  | "images.get"
  | "images.list"
  | "images.create"
  | "images.update"
  | "images.delete"
  | "operations.get"
  | "operations.cancel";

/**
 * The single authorisation decision for every request: may `principal` do `action` in `folderId`?
 * The bootstrap admin may act in every folder. (Roles and access bindings extend this function,
 * and only this function.)
 */
export function authorize(principal: Principal, action: Action, folderId: string): void {
  if (principal.isAdmin) return;
  throw permissionDenied(`Permission denied: ${action} in folder ${folderId}`);
}
