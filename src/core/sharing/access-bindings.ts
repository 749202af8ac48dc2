import {
  type AccessBinding,
  type AccessBindingDelta,
  bindingKey,
  checkBindings,
  MAX_BINDINGS,
} from "../access-binding.js";
import type { CoreDeps } from "../core-deps.js";
import { type FieldViolation, invalidArgument, validationFailed } from "../errors.js";
import { type ImageRef, loadImage } from "../images/image-loader.js";
import type { Page } from "../images/page.js";
import type { Operation } from "../operation.js";
import { recordImageOperation } from "../operations/record-operation.js";
import { decodePageToken, pageOf } from "../page-token.js";
import type { CatalogStores } from "../ports/catalog.js";
import type { Principal } from "../principal.js";

/**
 * Roles bound on single images (the Compute API's access-binding methods). Listing needs the
 * right to read the image's bindings (viewer and up); changing them is the admin role's, on the
 * folder or on the image.
 */
type Deps = Pick<CoreDeps, "catalog" | "externalSubjects">;

type BindingInput = { roleId: string; subject: { id: string; type: string } };

export async function listImageAccessBindings(
  deps: Deps,
  principal: Principal,
  ref: ImageRef,
  pageSize: number,
  pageToken: string,
): Promise<Page<AccessBinding>> {
  const { catalog } = deps;
  const image = await loadImage(catalog, principal, "images.listAccessBindings", ref);
  const fingerprint = `access-bindings:${image.id}`;
  const offset = pageToken ? Number(decodePageToken(pageToken, fingerprint).value ?? 0) : 0;
  const size = pageSize === 0 ? 100 : pageSize;
  const rows = await catalog.bindings.list("image", image.id, offset, size + 1);
  return pageOf(rows, size, fingerprint, () => ({ id: "", value: offset + size }));
}

/** Replaces all of an image's bindings; the operation's result names what changed. */
export async function setImageAccessBindings(
  deps: Deps,
  principal: Principal,
  ref: ImageRef,
  input: BindingInput[],
): Promise<Operation> {
  if (input.length > MAX_BINDINGS) {
    throw invalidArgument(`accessBindings: at most ${MAX_BINDINGS} bindings`, [
      { field: "accessBindings", description: `at most ${MAX_BINDINGS} bindings` },
    ]);
  }
  const wanted = checkBindings(input, (i) => `accessBindings[${i}]`);
  return changeBindings(
    deps,
    principal,
    ref,
    "image.setAccessBindings",
    "Set access bindings",
    wanted,
    async (tx, id) => {
      const current = await tx.bindings.list("image", id);
      const wantedKeys = new Set(wanted.map(bindingKey));
      const currentKeys = new Set(current.map(bindingKey));
      return [
        ...current
          .filter((b) => !wantedKeys.has(bindingKey(b)))
          .map((b) => ({ action: "REMOVE" as const, accessBinding: b })),
        ...dedupe(wanted)
          .filter((b) => !currentKeys.has(bindingKey(b)))
          .map((b) => ({ action: "ADD" as const, accessBinding: b })),
      ];
    },
  );
}

/** Applies ADD and REMOVE deltas; only the ones that changed something are effective. */
export async function updateImageAccessBindings(
  deps: Deps,
  principal: Principal,
  ref: ImageRef,
  input: { action: string; accessBinding: BindingInput }[],
): Promise<Operation> {
  if (input.length === 0 || input.length > MAX_BINDINGS) {
    throw invalidArgument(`accessBindingDeltas: 1 to ${MAX_BINDINGS} deltas`, [
      { field: "accessBindingDeltas", description: `must hold 1 to ${MAX_BINDINGS} deltas` },
    ]);
  }
  const badActions: FieldViolation[] = input.flatMap((d, i) =>
    d.action === "ADD" || d.action === "REMOVE"
      ? []
      : [{ field: `accessBindingDeltas[${i}].action`, description: "must be ADD or REMOVE" }],
  );
  if (badActions.length > 0) throw validationFailed(badActions);
  const checked = checkBindings(
    input.map((d) => d.accessBinding),
    (i) => `accessBindingDeltas[${i}].accessBinding`,
  );
  const deltas: AccessBindingDelta[] = input.map((d, i) => ({
    action: d.action as AccessBindingDelta["action"],
    accessBinding: checked[i]!,
  }));
  const added = deltas.filter((d) => d.action === "ADD").map((d) => d.accessBinding);
  return changeBindings(
    deps,
    principal,
    ref,
    "image.updateAccessBindings",
    "Update access bindings",
    added,
    async () => deltas,
  );
}

/**
 * The shared part of set and update: authorise, check the subjects being granted, apply the
 * deltas in one transaction (keeping only those that changed something), record a done operation.
 */
async function changeBindings(
  deps: Deps,
  principal: Principal,
  ref: ImageRef,
  kind: "image.setAccessBindings" | "image.updateAccessBindings",
  description: string,
  granted: AccessBinding[],
  deltasFor: (tx: CatalogStores, imageId: string) => Promise<AccessBindingDelta[]>,
): Promise<Operation> {
  return deps.catalog.transaction(async (tx) => {
    const image = await loadImage(tx, principal, "images.setAccessBindings", ref);
    await checkSubjectsExist(deps, tx, granted);
    const effectiveDeltas: AccessBindingDelta[] = [];
    for (const delta of await deltasFor(tx, image.id)) {
      const changed =
        delta.action === "ADD"
          ? await tx.bindings.add("image", image.id, delta.accessBinding)
          : await tx.bindings.remove("image", image.id, delta.accessBinding);
      if (changed) effectiveDeltas.push(delta);
    }
    const total = (await tx.bindings.list("image", image.id, 0, MAX_BINDINGS + 1)).length;
    if (total > MAX_BINDINGS) {
      throw invalidArgument(`An image holds at most ${MAX_BINDINGS} access bindings`);
    }
    return recordImageOperation(tx, principal, image, {
      kind,
      description,
      task: { type: "none" },
      result: { response: { type: "accessBindings", effectiveDeltas } },
    });
  });
}

/** Users and service accounts must be known here (unless identities live elsewhere), with the type they have. */
async function checkSubjectsExist(deps: Deps, tx: CatalogStores, granted: AccessBinding[]): Promise<void> {
  const named = granted.filter((b) => b.subject.type !== "system");
  if (named.length === 0) return;
  const types = await tx.subjects.typesOf([...new Set(named.map((b) => b.subject.id))]);
  const violations: FieldViolation[] = [];
  for (const b of named) {
    const type = types.get(b.subject.id);
    if (type === undefined && !deps.externalSubjects) {
      violations.push({ field: "subject.id", description: `subject ${b.subject.id} not found` });
    } else if (type !== undefined && type !== b.subject.type) {
      violations.push({ field: "subject.type", description: `subject ${b.subject.id} is a ${type}` });
    }
  }
  if (violations.length > 0) throw validationFailed(violations);
}

function dedupe(bindings: AccessBinding[]): AccessBinding[] {
  const seen = new Map(bindings.map((b) => [bindingKey(b), b]));
  return [...seen.values()];
}
