import type { AccessBindingsRepo } from "../../storage/meta/access-bindings-repo.js";
import type { Db } from "../../storage/meta/database.js";
import type { SubjectsRepo } from "../../storage/meta/subjects-repo.js";
import type { OperationsRepo } from "../../storage/meta/operations-repo.js";
import {
  type AccessBinding,
  type AccessBindingDelta,
  bindingKey,
  checkBindings,
  MAX_BINDINGS,
} from "../access-binding.js";
import { type FieldViolation, invalidArgument, validationFailed } from "../errors.js";
import type { Operation } from "../operation.js";
import { decodePageToken, encodePageToken } from "../page-token.js";
import type { Principal } from "../principal.js";
import type { ImageLoader, ImageRef } from "./image-loader.js";
import type { Page } from "./images.js";
import { recordImageOperation } from "./record-operation.js";

export interface AccessBindingServiceDeps {
  db: Db;
  bindings: AccessBindingsRepo;
  subjects: SubjectsRepo;
  operations: OperationsRepo;
  loader: ImageLoader;
  /**
   * Whether subjects may be named that this service holds no row for (Keystone users). Without an
   * external identity source an unknown subject is a typo, refused rather than bound to nothing.
   */
  externalSubjects: boolean;
}

type BindingInput = { roleId: string; subject: { id: string; type: string } };

/**
 * Roles bound on single images (the Compute API's access-binding methods). Listing needs the
 * right to read the image's bindings (viewer and up); changing them is the admin role's, on the
 * folder or on the image.
 */
export class ImageAccessBindingService {
  constructor(private readonly deps: AccessBindingServiceDeps) {}

  async list(
    principal: Principal,
    ref: ImageRef,
    pageSize: number,
    pageToken: string,
  ): Promise<Page<AccessBinding>> {
    const { db, bindings, loader } = this.deps;
    const image = await loader.load(db, principal, "images.listAccessBindings", ref);
    const fingerprint = `access-bindings:${image.id}`;
    const offset = pageToken ? Number(decodePageToken(pageToken, fingerprint).value ?? 0) : 0;
    const size = pageSize === 0 ? 100 : pageSize;
    const rows = await bindings.list(db, "image", image.id, offset, size + 1);
    const items = rows.slice(0, size);
    const nextPageToken =
      rows.length > size ? encodePageToken(fingerprint, { id: "", value: offset + size }) : "";
    return { items, nextPageToken };
  }

  /** Replaces all of an image's bindings; the operation's result names what changed. */
  async set(principal: Principal, ref: ImageRef, input: BindingInput[]): Promise<Operation> {
    if (input.length > MAX_BINDINGS) {
      throw invalidArgument(`accessBindings: at most ${MAX_BINDINGS} bindings`, [
        { field: "accessBindings", description: `at most ${MAX_BINDINGS} bindings` },
      ]);
    }
    const wanted = checkBindings(input, (i) => `accessBindings[${i}]`);
    return this.change(
      principal,
      ref,
      "image.setAccessBindings",
      "Set access bindings",
      wanted,
      async (trx, id) => {
        const current = await this.deps.bindings.list(trx, "image", id);
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
  async update(
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
    return this.change(
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
  private async change(
    principal: Principal,
    ref: ImageRef,
    kind: "image.setAccessBindings" | "image.updateAccessBindings",
    description: string,
    granted: AccessBinding[],
    deltasFor: (trx: Db, imageId: string) => Promise<AccessBindingDelta[]>,
  ): Promise<Operation> {
    const { db, bindings, loader, operations } = this.deps;
    return db.transaction().execute(async (trx) => {
      const image = await loader.load(trx, principal, "images.setAccessBindings", ref);
      await this.checkSubjectsExist(trx, granted);
      const effectiveDeltas: AccessBindingDelta[] = [];
      for (const delta of await deltasFor(trx, image.id)) {
        const changed =
          delta.action === "ADD"
            ? await bindings.add(trx, "image", image.id, delta.accessBinding)
            : await bindings.remove(trx, "image", image.id, delta.accessBinding);
        if (changed) effectiveDeltas.push(delta);
      }
      const total = (await bindings.list(trx, "image", image.id, 0, MAX_BINDINGS + 1)).length;
      if (total > MAX_BINDINGS) {
        throw invalidArgument(`An image holds at most ${MAX_BINDINGS} access bindings`);
      }
      return recordImageOperation(
        operations,
        trx,
        principal,
        image,
        kind,
        description,
        {},
        {
          result: { response: { type: "accessBindings", effectiveDeltas } },
        },
      );
    });
  }

  /** Users and service accounts must be known here (unless identities live elsewhere), with the type they have. */
  private async checkSubjectsExist(trx: Db, granted: AccessBinding[]): Promise<void> {
    const named = granted.filter((b) => b.subject.type !== "system");
    if (named.length === 0) return;
    const types = await this.deps.subjects.typesOf(trx, [...new Set(named.map((b) => b.subject.id))]);
    const violations: FieldViolation[] = [];
    for (const b of named) {
      const type = types.get(b.subject.id);
      if (type === undefined && !this.deps.externalSubjects) {
        violations.push({ field: "subject.id", description: `subject ${b.subject.id} not found` });
      } else if (type !== undefined && type !== b.subject.type) {
        violations.push({ field: "subject.type", description: `subject ${b.subject.id} is a ${type}` });
      }
    }
    if (violations.length > 0) throw validationFailed(violations);
  }
}

function dedupe(bindings: AccessBinding[]): AccessBinding[] {
  const seen = new Map(bindings.map((b) => [bindingKey(b), b]));
  return [...seen.values()];
}
