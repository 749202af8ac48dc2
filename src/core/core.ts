import type { CoreDeps } from "./core-deps.js";
import { type AuditQuery, listAuditRecords } from "./events/audit.js";
import { webhookSubscriptions } from "./events/webhook.js";
import { collectAbandonedPendingData } from "./image-data/collect-pending-data.js";
import { recoverAbandonedUploads } from "./image-data/recover-abandoned-uploads.js";
import { type ByteRange, downloadImageData } from "./image-data/download-image-data.js";
import { imageLocations } from "./image-data/image-locations.js";
import { type ImportInput, importImageData } from "./image-data/import-image-data.js";
import {
  type AppendInput,
  type BeginResumableInput,
  type UploadRef,
  appendResumableUpload,
  beginResumableUpload,
  cancelResumableUpload,
  expireResumableUploads,
  resumableUploadState,
} from "./image-data/resumable-upload.js";
import { type UploadInput, uploadImageData } from "./image-data/upload-image-data.js";
import { type CreateImageInput, createImage } from "./images/create-image.js";
import { RunCreateImage } from "./images/run-create.js";
import {
  type CopyInput,
  RunCopyImage,
  copyImageData,
  removeFromStore,
} from "./image-data/copy-image-data.js";
import {
  clearCache,
  listCache,
  prefetchPooled,
  queueForCache,
  removeFromCache,
} from "./image-data/image-cache.js";
import { storesOf } from "./image-data/image-stores.js";
import type { Image, SourceLocation } from "./image.js";
import {
  type NewLocation,
  addSourceLocation,
  locationsOf,
  removeSourceLocation,
  replaceSourceLocations,
} from "./image-data/source-locations.js";
import { RunDeleteImage } from "./images/run-delete.js";
import { RunUpdateImage } from "./images/run-update.js";
import { setImageDeactivated } from "./images/deactivate-image.js";
import { deleteImage } from "./images/delete-image.js";
import { getImage, getLatestOfFamily } from "./images/get-image.js";
import { imagePermissions } from "./images/image-permissions.js";
import type { ImageRef } from "./images/image-loader.js";
import { type ListImagesInput, listImages } from "./images/list-images.js";
import { listImageOperations } from "./images/list-image-operations.js";
import { summarizeImages } from "./images/summarize-images.js";
import { type RegisterImageInput, registerImage } from "./images/register-image.js";
import { type SearchImagesInput, searchImages } from "./images/search-images.js";
import { type UpdatePolicy, updateImage } from "./images/update-image.js";
import type { ImageChange } from "./image-change.js";
import type { ImageKind } from "./image.js";
import type { MemberStatus } from "./member.js";
import {
  createEntry,
  createTags,
  deleteEntry,
  type EntryInput,
  getEntry,
  listEntries,
  updateEntry,
} from "./metadefs/entries.js";
import type { EntryKind } from "./metadefs/metadef.js";
import {
  clearNamespace,
  type CreateNamespaceInput,
  createNamespace,
  deleteNamespace,
  getNamespace,
  type ListNamespacesInput,
  listNamespaces,
  type NamespaceInput,
  updateNamespace,
} from "./metadefs/namespaces.js";
import {
  type AssociationInput,
  associate,
  dissociate,
  listAssociations,
  listResourceTypes,
} from "./metadefs/resource-types.js";
import { type DeprecationInput, deprecateImage } from "./lifecycle/deprecate-image.js";
import { type ExportImageInput, exportImage } from "./conversion/export-image.js";
import {
  type ConversionSettingInput,
  getConversionSettings,
  setConversionSettings,
} from "./conversion/folder-conversion.js";
import {
  getBinSettings,
  listBin,
  purgeImage,
  restoreImage,
  setBinRetention,
} from "./lifecycle/recycle-bin.js";
import {
  type RetentionRuleInput,
  deleteRetentionRule,
  listRetentionRules,
  putRetentionRule,
} from "./lifecycle/retention.js";
import { RunPurgeImage } from "./lifecycle/run-purge.js";
import { RunTransition } from "./lifecycle/run-transition.js";
import { cancelOperation } from "./operations/cancel-operation.js";
import { getOperation } from "./operations/get-operation.js";
import { listFolderOperations } from "./operations/list-folder-operations.js";
import { type ListOperationsInput, listOperations } from "./operations/list-operations.js";
import type { OperationRunners } from "./operations/operation-runner.js";
import type { Principal } from "./principal.js";
import {
  getProjectQuota,
  getQuotaDefaults,
  largestProjectQuotas,
  listProjectQuotas,
  setProjectLimits,
} from "./quotas/project-quotas.js";
import {
  listImageAccessBindings,
  setImageAccessBindings,
  updateImageAccessBindings,
} from "./sharing/access-bindings.js";
import {
  addImageMember,
  getImageMember,
  listImageMembers,
  removeImageMember,
  setImageMemberStatus,
} from "./sharing/image-members.js";

type P = Principal;

/**
 * The core as the edges see it: every use case, bound to its ports. Each entry is one use case
 * in one file (core/images, core/image-data, core/sharing, core/operations); this only wires them.
 */
export function buildCore(deps: CoreDeps) {
  return {
    images: {
      summarize: (p: P, folderId: string | null) => summarizeImages(deps, p, folderId),
      create: (p: P, input: CreateImageInput) => createImage(deps, p, input),
      register: (p: P, input: RegisterImageInput) => registerImage(deps, p, input),
      get: (p: P, ref: ImageRef) => getImage(deps, p, ref),
      /** What the caller may do to the image, and why not (the console offers only these). */
      permissions: (p: P, ref: ImageRef) => imagePermissions(deps, p, ref),
      latestOfFamily: (p: P, kind: ImageKind, folderId: string, family: string) =>
        getLatestOfFamily(deps, p, kind, folderId, family),
      list: (p: P, input: ListImagesInput) => listImages(deps, p, input),
      search: (p: P, input: SearchImagesInput) => searchImages(deps, p, input),
      update: (p: P, ref: ImageRef, change: ImageChange, policy: UpdatePolicy) =>
        updateImage(deps, p, ref, change, policy),
      delete: (p: P, ref: ImageRef, description: string, opts?: { skipBin?: boolean }) =>
        deleteImage(deps, p, ref, description, opts),
      setDeactivated: (p: P, ref: ImageRef, deactivated: boolean) =>
        setImageDeactivated(deps, p, ref, deactivated),
      listOperations: (p: P, ref: ImageRef, pageSize: number, pageToken: string) =>
        listImageOperations(deps, p, ref, pageSize, pageToken),
    },
    imageData: {
      upload: (p: P, uuid: string, input: UploadInput) => uploadImageData(deps, p, uuid, input),
      import: (p: P, uuid: string, input: ImportInput) => importImageData(deps, p, uuid, input),
      download: (p: P, uuid: string, range: ByteRange | null) => downloadImageData(deps, p, uuid, range),
      locations: (p: P, uuid: string) => imageLocations(deps, p, uuid),
      resumable: {
        begin: (p: P, uuid: string, input: BeginResumableInput) => beginResumableUpload(deps, p, uuid, input),
        state: (p: P, ref: UploadRef) => resumableUploadState(deps, p, ref),
        append: (p: P, ref: UploadRef, input: AppendInput) => appendResumableUpload(deps, p, ref, input),
        cancel: (p: P, ref: UploadRef) => cancelResumableUpload(deps, p, ref),
        expire: () => expireResumableUploads(deps),
      },
      copy: (p: P, uuid: string, input: CopyInput) => copyImageData(deps, p, uuid, input),
      removeFromStore: (p: P, uuid: string, store: string) => removeFromStore(deps, p, uuid, store),
      stores: () => deps.stores.list(),
      storesOf: (image: Image) => storesOf(image, deps),
      defaultStore: () => deps.stores.defaultStore,
      locationsShown: () => deps.writableLocations,
      locationsOf: (image: Image) => locationsOf(image, deps),
      sourceLocations: {
        add: (p: P, uuid: string, location: NewLocation) => addSourceLocation(deps, p, uuid, location),
        replace: (p: P, uuid: string, list: SourceLocation[]) => replaceSourceLocations(deps, p, uuid, list),
        remove: (p: P, uuid: string, index: number) => removeSourceLocation(deps, p, uuid, index),
      },
      /** What the import methods this installation can offer depend on. */
      importOffer: () => ({ stores: deps.stores.list().length, remoteImports: deps.remoteImports }),
      cache: {
        list: (p: P) => listCache(deps, p),
        queue: (p: P, uuid: string) => queueForCache(deps, p, uuid),
        remove: (p: P, uuid: string) => removeFromCache(deps, p, uuid),
        clear: (p: P, target: "cache" | "queue" | "both") => clearCache(deps, p, target),
        prefetchPooled: () => prefetchPooled(deps),
      },
      collectAbandoned: () => collectAbandonedPendingData(deps),
      recoverAbandonedUploads: (liveSince: number) => recoverAbandonedUploads(deps, liveSince),
    },
    members: {
      add: (p: P, uuid: string, memberId: string) => addImageMember(deps, p, uuid, memberId),
      list: (p: P, uuid: string) => listImageMembers(deps, p, uuid),
      get: (p: P, uuid: string, memberId: string) => getImageMember(deps, p, uuid, memberId),
      setStatus: (p: P, uuid: string, memberId: string, status: MemberStatus) =>
        setImageMemberStatus(deps, p, uuid, memberId, status),
      remove: (p: P, uuid: string, memberId: string) => removeImageMember(deps, p, uuid, memberId),
    },
    accessBindings: {
      list: (p: P, ref: ImageRef, pageSize: number, pageToken: string) =>
        listImageAccessBindings(deps, p, ref, pageSize, pageToken),
      set: (p: P, ref: ImageRef, input: Parameters<typeof setImageAccessBindings>[3]) =>
        setImageAccessBindings(deps, p, ref, input),
      update: (p: P, ref: ImageRef, input: Parameters<typeof updateImageAccessBindings>[3]) =>
        updateImageAccessBindings(deps, p, ref, input),
    },
    operations: {
      get: (p: P, id: string) => getOperation(deps, p, id),
      cancel: (p: P, id: string) => cancelOperation(deps, p, id),
      list: (p: P, input: ListOperationsInput) => listOperations(deps, p, input),
      listInFolder: (p: P, folderId: string, pageSize: number, pageToken: string) =>
        listFolderOperations(deps, p, folderId, pageSize, pageToken),
    },
    /** Metadata definitions (OpenStack's metadefs): namespaces, their entries, resource types. */
    metadefs: {
      listNamespaces: (p: P, input: ListNamespacesInput) => listNamespaces(deps, p, input),
      getNamespace: (p: P, name: string, resourceType?: string) => getNamespace(deps, p, name, resourceType),
      createNamespace: (p: P, input: CreateNamespaceInput) => createNamespace(deps, p, input),
      updateNamespace: (p: P, name: string, input: NamespaceInput) => updateNamespace(deps, p, name, input),
      deleteNamespace: (p: P, name: string) => deleteNamespace(deps, p, name),
      clearNamespace: (p: P, name: string, kind: EntryKind) => clearNamespace(deps, p, name, kind),
      listEntries: (p: P, ns: string, kind: EntryKind) => listEntries(deps, p, ns, kind),
      getEntry: (p: P, ns: string, kind: EntryKind, name: string, resourceType?: string) =>
        getEntry(deps, p, ns, kind, name, resourceType),
      createEntry: (p: P, ns: string, input: EntryInput) => createEntry(deps, p, ns, input),
      createTags: (p: P, ns: string, names: string[], append: boolean) =>
        createTags(deps, p, ns, names, append),
      updateEntry: (p: P, ns: string, name: string, input: EntryInput) =>
        updateEntry(deps, p, ns, name, input),
      deleteEntry: (p: P, ns: string, kind: EntryKind, name: string) => deleteEntry(deps, p, ns, kind, name),
      resourceTypes: () => listResourceTypes(deps),
      associations: (p: P, ns: string) => listAssociations(deps, p, ns),
      associate: (p: P, ns: string, input: AssociationInput) => associate(deps, p, ns, input),
      dissociate: (p: P, ns: string, resourceType: string) => dissociate(deps, p, ns, resourceType),
    },
    /** Per-project limits and usage (core/quotas). */
    quotas: {
      get: (p: P, projectId: string) => getProjectQuota(deps, p, projectId),
      list: (p: P, max: number) => listProjectQuotas(deps, p, max),
      defaults: (p: P) => getQuotaDefaults(deps, p),
      /** For the metrics (no caller): the projects storing the most, with their limits and usage. */
      largest: (max: number) => largestProjectQuotas(deps, max),
      setLimits: (p: P, projectId: string | null, limits: Record<string, number | null>) =>
        setProjectLimits(deps, p, projectId, limits),
    },
    /** Deprecation, the recycle bin, retention rules (core/lifecycle). */
    lifecycle: {
      deprecate: (p: P, ref: ImageRef, input: DeprecationInput) => deprecateImage(deps, p, ref, input),
      listBin: (p: P, folderId: string, pageSize: number, pageToken: string) =>
        listBin(deps, p, folderId, pageSize, pageToken),
      restore: (p: P, id: string) => restoreImage(deps, p, id),
      purge: (p: P, id: string) => purgeImage(deps, p, id),
      binSettings: (p: P, folderId: string) => getBinSettings(deps, p, folderId),
      setBinRetention: (p: P, folderId: string, seconds: number | null) =>
        setBinRetention(deps, p, folderId, seconds),
      rules: (p: P, folderId: string) => listRetentionRules(deps, p, folderId),
      putRule: (p: P, folderId: string, family: string, input: RetentionRuleInput) =>
        putRetentionRule(deps, p, folderId, family, input),
      deleteRule: (p: P, folderId: string, family: string) => deleteRetentionRule(deps, p, folderId, family),
    },
    /** Conversion of what arrives, per folder, and exports (core/conversion). */
    conversion: {
      export: (p: P, ref: ImageRef, input: ExportImageInput) => exportImage(deps, p, ref, input),
      settings: (p: P, folderId: string) => getConversionSettings(deps, p, folderId),
      setSettings: (p: P, folderId: string, input: ConversionSettingInput) =>
        setConversionSettings(deps, p, folderId, input),
    },
    /** Webhook subscriptions per folder and their deliveries (core/events). */
    webhooks: webhookSubscriptions(deps),
    /** The audit records, for the service admin (core/events). */
    audit: { list: (p: P, query: AuditQuery) => listAuditRecords(deps, p, query) },
    /** Readiness: both stores answer. */
    ping: async () => {
      await deps.catalog.ping();
      await deps.blobs.ping();
    },
  };
}

export type Core = ReturnType<typeof buildCore>;

/**
 * The run halves of the long use cases, by operation kind, for the worker to call: it needs no
 * queue, so the engine that is the core's queue can be built on it.
 */
export function buildRunners(deps: Omit<CoreDeps, "queue">): OperationRunners {
  return {
    "image.create": new RunCreateImage(deps),
    "image.update": new RunUpdateImage(),
    "image.delete": new RunDeleteImage(deps),
    "image.transition": new RunTransition(deps),
    "image.purge": new RunPurgeImage(deps),
    "image.copy": new RunCopyImage(deps),
  };
}
