import type { Kysely } from "kysely";
import type { UrlPolicy } from "../../ingest/url-policy.js";
import type { OperationEngine } from "../../operations/engine.js";
import type { CreateImagePayload, ImageSource } from "../../operations/handlers/image-create.js";
import type { DeleteImagePayload } from "../../operations/handlers/image-delete.js";
import type { Db } from "../../storage/meta/database.js";
import type {
  ColumnCondition,
  ImageCondition,
  ImageOrderField,
  ImagesRepo,
  SearchScope,
  SearchSortKey,
} from "../../storage/meta/images-repo.js";
import type { OperationsRepo } from "../../storage/meta/operations-repo.js";
import type { Database } from "../../storage/meta/schema.js";
import { type Action, authorize, can, foldersOf } from "../access.js";
import { type FormatPolicy, formatsForCreate } from "../format-policy.js";
import type { MemberStatus } from "../member.js";
import type { ImageLoader, ImageRef } from "./image-loader.js";
import { recordImageOperation } from "./record-operation.js";
import {
  VitrineError,
  alreadyExists,
  failedPrecondition,
  invalidArgument,
  notFound,
  permissionDenied,
} from "../errors.js";
import type { HardwareGeneration, Image, ImageKind, OsType } from "../image.js";
import { RECEIVING_STATUSES, assertTransition, newQueuedImage } from "../image.js";
import { assertMinDiskSizeCovers, dataSizeOf } from "../image-sizes.js";
import type { Operation } from "../operation.js";
import { type Cursor, decodePageToken, encodePageToken } from "../page-token.js";
import type { Principal } from "../principal.js";

export interface CreateImageInput {
  kind: ImageKind;
  folderId: string;
  name: string;
  description: string;
  labels: Record<string, string>;
  family: string;
  /** 0 when the request named none. */
  minDiskSize: number;
  /** null when the request named none (then inherited from a source image). */
  productIds: string[] | null;
  osType: OsType | null;
  pooled: boolean;
  hardwareGeneration: HardwareGeneration | null;
  source: ImageSource;
  /** The operation's description, in the dialect's words ("Create image"). */
  operationDescription: string;
}

/** The updatable fields; a field present here is set (dialects resolve masks and defaults). */
export type ImagePatch = Partial<
  Pick<
    Image,
    | "name"
    | "description"
    | "labels"
    | "minDiskSize"
    | "visibility"
    | "protected"
    | "osHidden"
    | "tags"
    | "properties"
    | "diskFormat"
    | "containerFormat"
    | "minRam"
  >
>;

/** An image registered without data (OpenStack `POST /v2/images`): it waits in `queued`. */
export interface RegisterImageInput {
  /** A caller-chosen UUID, or null for a new one. */
  uuid: string | null;
  folderId: string;
  name: string;
  visibility: Image["visibility"];
  protected: boolean;
  osHidden: boolean;
  tags: string[];
  properties: Record<string, string>;
  diskFormat: string | null;
  containerFormat: string | null;
  minRam: number;
  /** Bytes; 0 when unset. */
  minDiskSize: number;
  osType: OsType;
}

/** A cross-folder list (OpenStack `GET /v2/images`) as the caller may see it. */
export interface SearchImagesInput {
  /** Which visibility to list; null: the default view (own, public and accepted shares). */
  visibility: Image["visibility"] | "all" | null;
  /** Which memberships of shared images count; "all": any. */
  memberStatus: MemberStatus | "all";
  conditions: ColumnCondition[];
  tags: string[];
  properties: { name: string; value: string }[];
  sort: { key: SearchSortKey; dir: "asc" | "desc" }[];
  /** The UUID of the last image of the previous page. */
  marker: string | null;
  limit: number;
}

export interface ListImagesInput {
  kind: ImageKind;
  folderId: string;
  conditions: ImageCondition[];
  order: { field: ImageOrderField; dir: "asc" | "desc" };
  pageSize: number;
  pageToken: string;
}

export interface Page<T> {
  items: T[];
  nextPageToken: string;
}

export interface ImageServiceDeps {
  db: Db;
  images: ImagesRepo;
  operations: OperationsRepo;
  engine: OperationEngine;
  urlPolicy: UrlPolicy;
  loader: ImageLoader;
  formats: FormatPolicy;
}

/**
 * The image use cases, one function each, read top to bottom: authorise, validate, load, change,
 * save, enqueue (STYLE.md §7). Dialects call these with core types and render what comes back.
 */
export class ImageService {
  constructor(private readonly deps: ImageServiceDeps) {}

  async create(
    principal: Principal,
    input: CreateImageInput,
    idempotencyKey: string | null,
  ): Promise<Operation> {
    const { db, images, operations } = this.deps;
    authorize(principal, "images.create", input.folderId);
    if (idempotencyKey) {
      const previous = await operations.findByIdempotencyKey(db, principal.subjectId, idempotencyKey);
      if (previous) return previous;
    }
    if (input.source.type === "uri") this.deps.urlPolicy.parse(input.source.uri);
    if (input.source.type === "image")
      await this.checkSourceImage(principal, input.kind, input.source.imageId);

    const image = newQueuedImage(
      {
        kind: input.kind,
        folderId: input.folderId,
        name: input.name,
        description: input.description,
        labels: input.labels,
        family: input.family,
        minDiskSize: input.minDiskSize,
        productIds: input.productIds ?? [],
        osType: input.osType ?? "LINUX",
        pooled: input.pooled,
        hardwareGeneration: input.hardwareGeneration,
      },
      Date.now(),
    );
    const payload: CreateImagePayload = {
      source: input.source,
      allowedFormats: formatsForCreate(this.deps.formats, input.kind, input.source.type),
      inherit: {
        osType: input.osType === null,
        productIds: input.productIds === null,
        minDiskSize: input.minDiskSize === 0,
      },
    };
    const op = await db.transaction().execute(async (trx) => {
      await this.assertNameFree(trx, image);
      await images.insert(trx, image);
      return recordImageOperation(
        this.deps.operations,
        trx,
        principal,
        image,
        "image.create",
        input.operationDescription,
        payload as unknown as Record<string, unknown>,
        { idempotencyKey },
      );
    });
    this.deps.engine.kick();
    return op;
  }

  async get(principal: Principal, kind: ImageKind, id: string): Promise<Image> {
    return this.loadImage(this.deps.db, principal, "images.get", kind, id);
  }

  async latestByFamily(
    principal: Principal,
    kind: ImageKind,
    folderId: string,
    family: string,
  ): Promise<Image> {
    authorize(principal, "images.get", folderId);
    const image = await this.deps.images.latestByFamily(this.deps.db, kind, folderId, family, [
      "active",
      "deactivated",
    ]);
    if (!image) throw notFound(`Image "${family}" not found`);
    return image;
  }

  async list(principal: Principal, input: ListImagesInput): Promise<Page<Image>> {
    authorize(principal, "images.list", input.folderId);
    const fingerprint = JSON.stringify([input.kind, input.folderId, input.conditions, input.order]);
    const after = input.pageToken
      ? await this.resolveCursor(decodePageToken(input.pageToken, fingerprint), input.order.field)
      : undefined;
    const rows = await this.deps.images.list(this.deps.db, {
      kind: input.kind,
      folderId: input.folderId,
      conditions: input.conditions,
      order: input.order,
      after,
      limit: input.pageSize,
    });
    const items = rows.slice(0, input.pageSize);
    const last = items[items.length - 1];
    const nextPageToken =
      rows.length > input.pageSize && last
        ? encodePageToken(fingerprint, { value: sortValue(last, input.order.field), id: last.id })
        : "";
    return { items, nextPageToken };
  }

  /** Applies a metadata change at once; the returned operation is already done. */
  async update(
    principal: Principal,
    kind: ImageKind,
    id: string,
    /** Computes the change from the image as stored (update masks reset fields to defaults). */
    resolvePatch: (current: Image) => ImagePatch,
    operationDescription: string,
  ): Promise<Operation> {
    const { op } = await this.applyUpdate(principal, { kind, id }, resolvePatch, operationDescription, true);
    return op;
  }

  /**
   * OpenStack's PATCH: the same update, without the Yandex dialects' unique names (Glance names
   * are free text). Returns the image as saved.
   */
  async modify(
    principal: Principal,
    uuid: string,
    resolvePatch: (current: Image) => ImagePatch,
  ): Promise<Image> {
    const { image } = await this.applyUpdate(principal, { uuid }, resolvePatch, "Update image", false);
    return image;
  }

  private async applyUpdate(
    principal: Principal,
    ref: ImageRef,
    resolvePatch: (current: Image) => ImagePatch,
    operationDescription: string,
    uniqueNames: boolean,
  ): Promise<{ op: Operation; image: Image }> {
    const { db, images } = this.deps;
    return db.transaction().execute(async (trx) => {
      const current = await this.deps.loader.load(trx, principal, "images.update", ref);
      if (current.status === "deleting") throw failedPrecondition(`Image ${current.id} is being deleted`);
      const patch = resolvePatch(current);
      const next: Image = { ...current, ...patch };
      this.checkPatchRules(principal, current, next);
      if (uniqueNames && patch.name !== undefined && patch.name !== current.name)
        await this.assertNameFree(trx, next);
      if (patch.minDiskSize !== undefined && uniqueNames)
        assertMinDiskSizeCovers(next.minDiskSize, dataSizeOf(next));
      const saved = await images.updateOrAbort(trx, next, Date.now());
      const op = await recordImageOperation(
        this.deps.operations,
        trx,
        principal,
        current,
        "image.update",
        operationDescription,
        {},
        { result: { response: { type: "image", image: saved } } },
      );
      return { op, image: saved };
    });
  }

  /** Rules on fields only some dialects change: who may publish, when formats may change. */
  private checkPatchRules(principal: Principal, current: Image, next: Image): void {
    if (next.visibility === "public" && current.visibility !== "public")
      this.assertMayPublicize(principal, next.folderId);
    for (const [field, attr] of [
      ["diskFormat", "disk_format"],
      ["containerFormat", "container_format"],
    ] as const) {
      if (next[field] !== current[field] && current.status !== "queued") {
        throw permissionDenied(`Attribute ${attr} can be only replaced for a queued image.`).because(
          "READ_ONLY_ATTRIBUTE",
        );
      }
    }
  }

  private assertMayPublicize(principal: Principal, folderId: string): void {
    if (!can(principal, "images.publicize", folderId)) {
      throw permissionDenied("You are not authorized to complete publicize_image action.");
    }
  }

  /**
   * Starts a metadata change that a worker applies: the image shows `updating` until it is done
   * (the BareMetal API's UPDATING). Validation and the name check happen now, and again when applied.
   */
  async beginUpdate(
    principal: Principal,
    kind: ImageKind,
    id: string,
    resolvePatch: (current: Image) => ImagePatch,
    operationDescription: string,
  ): Promise<Operation> {
    const { db, images } = this.deps;
    const op = await db.transaction().execute(async (trx) => {
      const current = await this.loadImage(trx, principal, "images.update", kind, id);
      assertTransition(current.status, "updating");
      const patch = resolvePatch(current);
      if (patch.name !== undefined && patch.name !== current.name)
        await this.assertNameFree(trx, { ...current, ...patch });
      await images.updateOrAbort(trx, { ...current, status: "updating" }, Date.now());
      return recordImageOperation(
        this.deps.operations,
        trx,
        principal,
        current,
        "image.update",
        operationDescription,
        { patch },
      );
    });
    this.deps.engine.kick();
    return op;
  }

  /**
   * Starts deleting an image: it disappears from lists at once, a worker frees its bytes. Images
   * still receiving data through an operation are refused (cancel the operation instead).
   */
  async delete(principal: Principal, ref: ImageRef, operationDescription: string): Promise<Operation> {
    const { db, images } = this.deps;
    const op = await db.transaction().execute(async (trx) => {
      const current = await this.deps.loader.load(trx, principal, "images.delete", ref);
      if (current.status === "deleting")
        throw failedPrecondition(`Image ${current.id} is already being deleted`);
      const busy =
        current.status === "importing" ||
        current.status === "saving" ||
        (RECEIVING_STATUSES.includes(current.status) &&
          (await this.deps.operations.hasUnfinished(trx, current.id)));
      if (busy) {
        throw failedPrecondition(
          `Image ${"uuid" in ref ? ref.uuid : current.id} is being created; cancel its create operation or wait for it to end`,
        ).because("STATUS_CONFLICT");
      }
      if (current.protected) {
        throw failedPrecondition(
          `Image ${"uuid" in ref ? ref.uuid : current.id} is protected and cannot be deleted.`,
        ).because("PROTECTED");
      }
      await images.updateOrAbort(trx, { ...current, status: "deleting" }, Date.now());
      const payload: DeleteImagePayload = { blobKey: current.blobKey };
      return recordImageOperation(
        this.deps.operations,
        trx,
        principal,
        current,
        "image.delete",
        operationDescription,
        payload as unknown as Record<string, unknown>,
      );
    });
    this.deps.engine.kick();
    return op;
  }

  /** Registers an image without data (OpenStack create): it waits in `queued` for an upload or import. */
  async register(principal: Principal, input: RegisterImageInput): Promise<Image> {
    const { db, images } = this.deps;
    if (!can(principal, "images.create", input.folderId)) {
      throw permissionDenied(`You are not permitted to create images owned by '${input.folderId}'.`);
    }
    if (input.visibility !== "private" && !principal.isAdmin) {
      if (input.visibility === "public") this.assertMayPublicize(principal, input.folderId);
      throw permissionDenied(
        "Only private images can be created; share an image by updating its visibility.",
      );
    }
    const { uuid, ...fields } = input;
    const image = newQueuedImage({ ...fields, ...(uuid ? { uuid } : {}), kind: "compute" }, Date.now());
    await db.transaction().execute(async (trx) => {
      if (input.uuid && (await images.findByUuid(trx, input.uuid))) {
        throw alreadyExists(`Image ID ${input.uuid} already exists!`);
      }
      await images.insert(trx, image);
    });
    return image;
  }

  async getByUuid(principal: Principal, uuid: string): Promise<Image> {
    return this.deps.loader.load(this.deps.db, principal, "images.get", { uuid });
  }

  /**
   * The images the caller may see across folders, Glance's way: its projects' own images, public
   * ones and shares it accepted by default; `visibility` and `memberStatus` widen or narrow that.
   * Returns one page and whether another follows.
   */
  async search(principal: Principal, input: SearchImagesInput): Promise<{ items: Image[]; more: boolean }> {
    const { db, images } = this.deps;
    const after = input.marker ? await this.resolveMarker(principal, input.marker) : undefined;
    const conditions = [...input.conditions];
    const vis = input.visibility;
    if (vis !== null && vis !== "all") conditions.push({ column: "visibility", op: "=", values: [vis] });
    const rows = await images.search(db, {
      scope: this.searchScope(principal, vis, input.memberStatus),
      conditions,
      tags: input.tags,
      properties: input.properties,
      sort: input.sort,
      after,
      limit: input.limit,
    });
    return { items: rows.slice(0, input.limit), more: rows.length > input.limit };
  }

  private searchScope(
    principal: Principal,
    visibility: SearchImagesInput["visibility"],
    memberStatus: SearchImagesInput["memberStatus"],
  ): SearchScope {
    if (principal.isAdmin) {
      return { all: true, owners: [], public: true, community: true, sharedWith: null };
    }
    const folders = foldersOf(principal);
    return {
      all: false,
      owners: folders.filter((f) => can(principal, "images.list", f)),
      public: true,
      // Community images are listed only when asked for (Glance keeps them out of the default view).
      community: visibility === "community" || visibility === "all",
      sharedWith: {
        projects: folders,
        statuses: memberStatus === "all" ? ["pending", "accepted", "rejected"] : [memberStatus],
      },
    };
  }

  private async resolveMarker(principal: Principal, marker: string): Promise<Image> {
    try {
      return await this.getByUuid(principal, marker);
    } catch (err) {
      if (err instanceof VitrineError && err.code === "NOT_FOUND") {
        throw invalidArgument(`No image found with ID ${marker}`, [
          { field: "marker", description: "no such image" },
        ]);
      }
      throw err;
    }
  }

  /** Deactivation (an admin's decision): the image stays but refuses downloads and new disks. */
  async setDeactivated(principal: Principal, uuid: string, deactivated: boolean): Promise<void> {
    const { db, images } = this.deps;
    const verb = deactivated ? "deactivate" : "reactivate";
    await db.transaction().execute(async (trx) => {
      const current = await this.deps.loader.load(trx, principal, "images.get", { uuid });
      if (!can(principal, "images.deactivate", current.folderId)) {
        throw permissionDenied(`You are not authorized to complete ${verb} action.`);
      }
      if (current.status !== "active" && current.status !== "deactivated") {
        throw permissionDenied(`Not allowed to ${verb} image in status '${current.status}'`).because(
          "STATUS_NOT_ALLOWED",
        );
      }
      const status = deactivated ? "deactivated" : "active";
      if (current.status === status) return;
      await images.updateOrAbort(trx, { ...current, status }, Date.now(), uuid);
    });
  }

  async listOperations(
    principal: Principal,
    kind: ImageKind,
    id: string,
    pageSize: number,
    pageToken: string,
  ): Promise<Page<Operation>> {
    const image = await this.get(principal, kind, id);
    const fingerprint = `operations:${image.id}`;
    const cursor = pageToken ? decodePageToken(pageToken, fingerprint) : undefined;
    // Operation cursors always carry their (numeric) timestamp: 20-char id + 8 bytes fit.
    const after = cursor ? { createdAt: Number(cursor.value ?? 0), id: cursor.id } : undefined;
    const rows = await this.deps.operations.listForResource(this.deps.db, image.id, pageSize, after);
    const items = rows.slice(0, pageSize);
    const last = items[items.length - 1];
    const nextPageToken =
      rows.length > pageSize && last
        ? encodePageToken(fingerprint, { value: last.createdAt, id: last.id })
        : "";
    return { items, nextPageToken };
  }

  private loadImage(
    db: Db,
    principal: Principal,
    action: Action,
    kind: ImageKind,
    id: string,
  ): Promise<Image> {
    return this.deps.loader.load(db, principal, action, { kind, id });
  }

  /** A cursor whose sort value did not fit in the token takes it from the row it names. */
  private async resolveCursor(
    cursor: Cursor,
    field: ImageOrderField,
  ): Promise<{ value: string | number; id: string }> {
    if (cursor.value !== undefined) return { value: cursor.value, id: cursor.id };
    const row = await this.deps.images.findById(this.deps.db, cursor.id);
    if (!row) {
      throw invalidArgument(
        "pageToken: the page token's position no longer exists; list again from the first page",
        [{ field: "pageToken", description: "expired page token" }],
      );
    }
    return { value: sortValue(row, field), id: row.id };
  }

  private async checkSourceImage(principal: Principal, kind: ImageKind, sourceId: string): Promise<void> {
    const source = await this.loadImage(this.deps.db, principal, "images.use", kind, sourceId);
    if (source.status !== "active")
      throw failedPrecondition(`Image ${sourceId} is not ready to be used as a source`);
  }

  /** Names are unique per folder (and kind); the empty name is not a name. */
  private async assertNameFree(trx: Kysely<Database>, image: Image): Promise<void> {
    if (image.name === "") return;
    if (await this.deps.images.isNameTaken(trx, image.kind, image.folderId, image.name, image.id)) {
      throw alreadyExists(`Image with name ${image.name} already exists in folder ${image.folderId}`);
    }
  }
}

function sortValue(image: Image, field: ImageOrderField): string | number {
  if (field === "created_at") return image.createdAt;
  if (field === "name") return image.name;
  return image.id;
}
