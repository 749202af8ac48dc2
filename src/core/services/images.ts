import type { Kysely } from "kysely";
import type { UrlPolicy } from "../../ingest/url-policy.js";
import type { DiskFormat } from "../../inspect/format.js";
import type { OperationEngine } from "../../operations/engine.js";
import type { CreateImagePayload, ImageSource } from "../../operations/handlers/image-create.js";
import type { DeleteImagePayload } from "../../operations/handlers/image-delete.js";
import type { Db } from "../../storage/meta/database.js";
import type { ImageCondition, ImageOrderField, ImagesRepo } from "../../storage/meta/images-repo.js";
import type { NewOperation, OperationsRepo } from "../../storage/meta/operations-repo.js";
import type { Database } from "../../storage/meta/schema.js";
import { type Action, authorize } from "../access.js";
import { VitrineError, alreadyExists, failedPrecondition, invalidArgument, notFound } from "../errors.js";
import { newResourceId, newUuid } from "../ids.js";
import type { HardwareGeneration, Image, ImageKind, OsType } from "../image.js";
import { RECEIVING_STATUSES, assertTransition } from "../image.js";
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
  allowedFormats: DiskFormat[];
  /** The operation's description, in the dialect's words ("Create image"). */
  operationDescription: string;
}

/** The updatable fields; a field present here is set (dialects resolve masks and defaults). */
export type ImagePatch = Partial<Pick<Image, "name" | "description" | "labels" | "minDiskSize">>;

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

    const now = Date.now();
    const image: Image = {
      id: newResourceId(),
      uuid: newUuid(),
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
      status: "queued",
      visibility: "private",
      protected: false,
      osHidden: false,
      tags: [],
      properties: {},
      diskFormat: null,
      containerFormat: null,
      minRam: 0,
      size: null,
      virtualSize: null,
      checksumMd5: null,
      checksumSha512: null,
      blobKey: null,
      createdAt: now,
      updatedAt: now,
      version: 1,
    };
    const payload: CreateImagePayload = {
      source: input.source,
      allowedFormats: input.allowedFormats,
      inherit: {
        osType: input.osType === null,
        productIds: input.productIds === null,
        minDiskSize: input.minDiskSize === 0,
      },
    };
    const op = await db.transaction().execute(async (trx) => {
      await this.assertNameFree(trx, image);
      await images.insert(trx, image);
      return this.recordOperation(
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
    const { db, images } = this.deps;
    return db.transaction().execute(async (trx) => {
      const current = await this.loadImage(trx, principal, "images.update", kind, id);
      if (current.status === "deleting") throw failedPrecondition(`Image ${id} is being deleted`);
      const patch = resolvePatch(current);
      const next: Image = { ...current, ...patch };
      if (patch.name !== undefined && patch.name !== current.name) await this.assertNameFree(trx, next);
      if (patch.minDiskSize !== undefined) assertMinDiskSizeCovers(next.minDiskSize, dataSizeOf(next));
      const saved = await images.update(trx, next, Date.now());
      if (!saved) throw new VitrineError("ABORTED", `Image ${id} was changed concurrently; retry`);
      return this.recordOperation(
        trx,
        principal,
        current,
        "image.update",
        operationDescription,
        {},
        { result: { response: { type: "image", image: saved } } },
      );
    });
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
      const saved = await images.update(trx, { ...current, status: "updating" }, Date.now());
      if (!saved) throw new VitrineError("ABORTED", `Image ${id} was changed concurrently; retry`);
      return this.recordOperation(trx, principal, current, "image.update", operationDescription, { patch });
    });
    this.deps.engine.kick();
    return op;
  }

  async delete(
    principal: Principal,
    kind: ImageKind,
    id: string,
    operationDescription: string,
  ): Promise<Operation> {
    const { db, images } = this.deps;
    const op = await db.transaction().execute(async (trx) => {
      const current = await this.loadImage(trx, principal, "images.delete", kind, id);
      if (current.status === "deleting") throw failedPrecondition(`Image ${id} is already being deleted`);
      if (RECEIVING_STATUSES.includes(current.status)) {
        throw failedPrecondition(
          `Image ${id} is being created; cancel its create operation or wait for it to end`,
        );
      }
      if (current.protected) throw failedPrecondition(`Image ${id} is protected and cannot be deleted`);
      const saved = await images.update(trx, { ...current, status: "deleting" }, Date.now());
      if (!saved) throw new VitrineError("ABORTED", `Image ${id} was changed concurrently; retry`);
      const payload: DeleteImagePayload = { blobKey: current.blobKey };
      return this.recordOperation(
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

  /** The image `id` of `kind`, if `principal` may do `action` on it; NOT_FOUND otherwise. */
  private async loadImage(
    db: Db,
    principal: Principal,
    action: Action,
    kind: ImageKind,
    id: string,
  ): Promise<Image> {
    const image = await this.deps.images.findById(db, id);
    if (!image || image.kind !== kind) throw notFound(`Image ${id} not found`);
    authorize(principal, action, image.folderId);
    return image;
  }

  /** Stores an operation on `image` by `principal` (the caller's transaction). */
  private recordOperation(
    trx: Db,
    principal: Principal,
    image: Image,
    kind: Operation["kind"],
    description: string,
    payload: Record<string, unknown>,
    extra: Pick<NewOperation, "result"> & { idempotencyKey?: string | null } = {},
  ): Promise<Operation> {
    return this.deps.operations.insert(
      trx,
      {
        id: newResourceId(),
        kind,
        resourceKind: image.kind,
        resourceId: image.id,
        folderId: image.folderId,
        description,
        createdBy: principal.subjectId,
        payload,
        idempotencyKey: extra.idempotencyKey ?? null,
        result: extra.result,
      },
      Date.now(),
    );
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
    const source = await this.get(principal, kind, sourceId);
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
