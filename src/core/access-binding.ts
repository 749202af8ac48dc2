import { type FieldViolation, validationFailed } from "./errors.js";
import { isRole, SYSTEM_GRANTABLE_ROLES } from "./access.js";
import type { Role } from "./principal.js";

export const SUBJECT_TYPES = ["userAccount", "serviceAccount", "federatedUser", "system"] as const;
export type SubjectType = (typeof SUBJECT_TYPES)[number];

/** The subjects this service issues tokens to itself (the others come from an identity provider or are groups). */
export const LOCAL_SUBJECT_TYPES = [
  "userAccount",
  "serviceAccount",
] as const satisfies readonly SubjectType[];
export type LocalSubjectType = (typeof LOCAL_SUBJECT_TYPES)[number];

/** The `system` subjects we know: every signed-in caller, and everyone. */
export const SYSTEM_SUBJECTS = ["allAuthenticatedUsers", "allUsers"] as const;

/** A role granted to a subject on a resource (yandex.cloud.access.AccessBinding). */
export interface AccessBinding {
  roleId: Role;
  subject: { id: string; type: SubjectType };
}

export type AccessBindingAction = "ADD" | "REMOVE";

export interface AccessBindingDelta {
  action: AccessBindingAction;
  accessBinding: AccessBinding;
}

/** The most bindings one resource holds (and one request carries). */
export const MAX_BINDINGS = 1000;

/**
 * Checks bindings as the access API defines them, collecting every violation under `field`:
 * known roles, subject types and system ids, and no write roles for everyone.
 */
export function checkBindings(
  bindings: readonly ({ roleId?: string; subject?: { id?: string; type?: string } } | undefined)[],
  field: (i: number) => string,
): AccessBinding[] {
  const violations: FieldViolation[] = [];
  bindings.forEach((binding, i) => {
    const at = field(i);
    // A binary (gRPC) request may leave a message out where JSON's schema requires it.
    if (!binding?.subject) {
      violations.push({ field: binding ? `${at}.subject` : at, description: "is required" });
      return;
    }
    const b = {
      roleId: binding.roleId ?? "",
      subject: { id: binding.subject.id ?? "", type: binding.subject.type ?? "" },
    };
    if (!isRole(b.roleId)) {
      violations.push({ field: `${at}.roleId`, description: `unknown role "${b.roleId}"` });
    }
    const { id, type } = b.subject;
    if (!(SUBJECT_TYPES as readonly string[]).includes(type)) {
      violations.push({
        field: `${at}.subject.type`,
        description: `must be one of ${SUBJECT_TYPES.join(", ")}`,
      });
    } else if (type === "system") {
      if (!(SYSTEM_SUBJECTS as readonly string[]).includes(id)) {
        violations.push({
          field: `${at}.subject.id`,
          description: `system subject must be one of ${SYSTEM_SUBJECTS.join(", ")}`,
        });
      } else if (isRole(b.roleId) && !SYSTEM_GRANTABLE_ROLES.includes(b.roleId)) {
        violations.push({
          field: `${at}.roleId`,
          description: `role ${b.roleId} cannot be granted to ${id}; use ${SYSTEM_GRANTABLE_ROLES.join(" or ")}`,
        });
      }
    } else if ((SYSTEM_SUBJECTS as readonly string[]).includes(id)) {
      violations.push({ field: `${at}.subject.type`, description: `${id} is a system subject` });
    }
    if (id === "" || id.length > 100) {
      violations.push({ field: `${at}.subject.id`, description: "must be 1 to 100 characters" });
    }
  });
  if (violations.length > 0) throw validationFailed(violations);
  return bindings as AccessBinding[];
}

export function bindingKey(b: AccessBinding): string {
  return `${b.roleId}\u0000${b.subject.type}\u0000${b.subject.id}`;
}
