/** A role a subject holds on a folder (access bindings; see core/access.ts for what each allows). */
export type Role = "viewer" | "editor" | "admin" | "compute.images.user";

/** Who is calling: resolved from a token by auth/, consumed by core/access.ts. */
export interface Principal {
  subjectId: string;
  subjectType: "userAccount" | "serviceAccount" | "system";
  isAdmin: boolean;
  /**
   * The project (= folder) the credentials are scoped to: OpenStack's current project, the owner
   * of images created through that dialect and the member id used when images are shared.
   */
  projectId: string;
  /** Roles on folders granted by access bindings (a subject may hold several on one folder). */
  folderRoles: Readonly<Record<string, readonly Role[]>>;
  /**
   * A caller without credentials, let through only where a dialect allows it (reading an image
   * bound to `allUsers`); every other decision refuses it with UNAUTHENTICATED.
   */
  anonymous?: boolean;
}

/** The caller without credentials: the `system` subject `allUsers` and nothing more. */
export const ANONYMOUS: Principal = {
  subjectId: "allUsers",
  subjectType: "system",
  isAdmin: false,
  projectId: "",
  folderRoles: {},
  anonymous: true,
};
