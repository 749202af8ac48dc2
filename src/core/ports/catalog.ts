import type { DiskFormat } from "../disk-format.js";
import type { QuotaResource, QuotaUsage } from "../quotas/quota.js";
import type { ConversionPolicy } from "../conversion/conversion-policy.js";
import type { RetentionRule } from "../lifecycle/lifecycle.js";
import type { AccessBinding } from "../access-binding.js";
import type { ImageListQuery, ImageSearch } from "../image-query.js";
import type { Image, ImageKind, ImageStatus } from "../image.js";
import type { ImageMember, MemberStatus } from "../member.js";
import type {
  EntryKind,
  MetadefEntry,
  MetadefNamespace,
  NamespaceVisibility,
  MetadefResourceType,
  ResourceTypeAssociation,
} from "../metadefs/metadef.js";
import type { Operation, OperationError, OperationProgress, OperationResponse } from "../operation.js";
import type { Principal, Role } from "../principal.js";
import type { EventRecord, NewEvent } from "../events/event.js";
import type { AuditQuery, AuditRecord } from "../events/audit.js";
import type { WebhookDelivery, WebhookSubscription } from "../events/webhook.js";

/**
 * The catalog: what the core needs of the metadata database, as interfaces it owns. storage/meta
 * implements them for SQLite (and any other SQL dialect Kysely speaks); every implementation
 * passes the same contract suite (test/contracts/catalog.contract.ts).
 */

/** The image write model: point reads and writes, each save conditional on what was read. */
export interface ImageStore {
  insert(image: Image): Promise<void>;
  findById(id: string): Promise<Image | null>;
  findByUuid(uuid: string): Promise<Image | null>;
  /**
   * Saves `next` over `current` only if the stored image still has `current`'s status and
   * version; returns what was saved (version + 1, `updatedAt` = `now`), or null when the stored
   * image moved on.
   */
  save(current: Image, next: Image, now: number): Promise<Image | null>;
  /** Removes the image with its tags, properties, members and access bindings. */
  delete(id: string): Promise<void>;
  /**
   * Whether an image other than `exceptId` has the name. In a transaction it also holds the
   * name until the transaction ends: a concurrent transaction asking for the same name waits, so
   * two creates on two nodes cannot both find it free.
   */
  isNameTaken(kind: ImageKind, folderId: string, name: string, exceptId?: string): Promise<boolean>;
  countBlobReferences(blobKey: string): Promise<number>;
  /** Active images marked `pooled` (Yandex: kept ready for fast disk creation), at most `limit`. */
  findPooled(limit: number): Promise<Image[]>;
  /** The images naming that blob (images made from one another share it). */
  findByBlobKey(blobKey: string): Promise<Image[]>;
  /** How many images there are of each kind and status (the metrics' gauge). */
  countByStatus(): Promise<{ kind: string; status: string; count: number }[]>;
}

/** The image read model: lists and searches, each asking for `limit + 1` rows (is there more?). */
export interface ImageReadModel {
  list(query: ImageListQuery): Promise<Image[]>;
  search(query: ImageSearch): Promise<Image[]>;
  /** How many images a search matches, counting no further than `cap` (a count costs a scan). */
  countMatches(query: ImageSearch, cap: number): Promise<number>;
  /** The newest image of a family with one of `statuses` and not deprecated, or null. */
  latestByFamily(
    kind: ImageKind,
    folderId: string,
    family: string,
    statuses: readonly ImageStatus[],
  ): Promise<Image | null>;
  /** Counts and bytes per folder (one folder, or the `limit` folders holding the most bytes). */
  summarize(folderId: string | null, limit: number): Promise<FolderSummary[]>;
}

/** What a folder holds: its images (every kind), and bytes as its images name them and as stored. */
export interface FolderSummary {
  folderId: string;
  images: number;
  /** Images that hold data. */
  withData: number;
  /** The sum of every image's size: what the folder would take if nothing were shared. */
  referencedBytes: number;
  /** The sum over the distinct blobs its images name: what the folder's images take. */
  storedBytes: number;
}

export interface NewOperation extends Pick<
  Operation,
  "id" | "kind" | "resourceKind" | "resourceId" | "folderId" | "description" | "createdBy" | "task"
> {
  idempotencyKey: string | null;
  requestId?: string | null;
  /** An operation that is complete when created (a synchronous change) carries its result. */
  result?: OperationResult;
  /** Scheduled work: no worker claims it before then (epoch ms). */
  notBefore?: number | null;
}

export type OperationResult = { response: OperationResponse } | { error: OperationError };

/** Operations and their queue: workers claim them with leases that expire when a worker dies. */
export interface OperationStore {
  /** Stores a new operation; ALREADY_EXISTS (reason IDEMPOTENCY_REPLAY) when its creator already used its idempotency key. */
  insert(op: NewOperation, now: number): Promise<Operation>;
  findById(id: string): Promise<Operation | null>;
  findByIdempotencyKey(createdBy: string, key: string): Promise<Operation | null>;
  /** Newest first, keyset paginated on (createdAt, id); `limit + 1` rows. */
  listForResource(
    resourceId: string,
    limit: number,
    after?: { createdAt: number; id: string },
  ): Promise<Operation[]>;
  /** A folder's operations (every resource in it), newest first, keyset paginated; `limit + 1` rows. */
  listForFolder(
    folderId: string,
    limit: number,
    after?: { createdAt: number; id: string },
  ): Promise<Operation[]>;
  /** Operations of one kind across all resources, newest first, keyset paginated; `limit + 1` rows. */
  listByKind(
    kind: Operation["kind"],
    limit: number,
    after?: { createdAt: number; id: string },
  ): Promise<Operation[]>;
  /** Ids of unfinished operations that no live worker holds, oldest first (scheduled ones aside). */
  findClaimable(now: number, limit: number): Promise<string[]>;
  /** Ids of scheduled operations whose time has come and that no live worker holds, soonest first. */
  findDue(now: number, limit: number): Promise<string[]>;
  /**
   * Takes the lease if free (never leased, released or expired) and due (`early`: even before its
   * scheduled time, to end it), atomically across processes.
   */
  claim(id: string, owner: string, now: number, leaseMs: number, early?: boolean): Promise<Operation | null>;
  /** Extends the leases `owner` holds; returns the ids whose cancellation was requested. */
  renewLeases(owner: string, ids: string[], now: number, leaseMs: number): Promise<string[]>;
  /** Unfinished operations: held by a live worker (running) or waiting for one (queued). */
  countUnfinished(now: number): Promise<{ running: number; queued: number }>;
  /** Records how far a running operation is; only its lease holder may. */
  saveProgress(id: string, owner: string, progress: OperationProgress): Promise<void>;
  /** Ends an operation; only the lease holder (or anyone, with `owner` null) may. */
  finish(id: string, owner: string | null, result: OperationResult, now: number): Promise<boolean>;
  /** Gives an operation back (graceful shutdown) so the next worker resumes it at once. */
  release(id: string, owner: string, now: number): Promise<void>;
  requestCancel(id: string, now: number): Promise<void>;
  unfinishedIds(): Promise<Set<string>>;
  /** Whether an operation on `resourceId` is still running (or waiting to run, scheduled ones aside). */
  hasUnfinished(resourceId: string): Promise<boolean>;
  /** The unfinished scheduled operations of one kind on `resourceId`, soonest first. */
  scheduled(resourceId: string, kind: Operation["kind"]): Promise<Operation[]>;
}

/** Projects an image is shared with (OpenStack image members). */
export interface MemberStore {
  insert(member: ImageMember): Promise<void>;
  find(imageId: string, memberId: string): Promise<ImageMember | null>;
  /** All members, or only those among `memberIds`; oldest first. */
  list(imageId: string, memberIds?: string[]): Promise<ImageMember[]>;
  setStatus(imageId: string, memberId: string, status: MemberStatus, now: number): Promise<void>;
  delete(imageId: string, memberId: string): Promise<void>;
}

export type ResourceType = "folder" | "image";

/** Roles granted to subjects on folders and on single images. */
export interface AccessBindingStore {
  /** A resource's bindings in a stable order (role, subject type, subject id). */
  list(type: ResourceType, resourceId: string, offset?: number, limit?: number): Promise<AccessBinding[]>;
  /** The roles `subjectIds` hold on one resource. */
  rolesOn(type: ResourceType, resourceId: string, subjectIds: string[]): Promise<Role[]>;
  /** Every folder binding of one subject. */
  folderRolesOf(subjectId: string): Promise<{ folderId: string; role: Role }[]>;
  /** Adds a binding; false when it was already there. */
  add(type: ResourceType, resourceId: string, binding: AccessBinding): Promise<boolean>;
  /** Removes a binding; false when there was none. */
  remove(type: ResourceType, resourceId: string, binding: AccessBinding): Promise<boolean>;
}

export interface Subject {
  id: string;
  type: Principal["subjectType"];
  name: string;
  isAdmin: boolean;
  createdAt: number;
}

/** Users and service accounts this service issues tokens to. */
export interface SubjectStore {
  insert(subject: Subject): Promise<void>;
  /** The types of those of `ids` that exist. */
  typesOf(ids: string[]): Promise<Map<string, string>>;
  /** The first admin subject created, or null. */
  firstAdmin(): Promise<string | null>;
}

/** An upload streaming into an image, served by one node. */
export interface UploadRecord {
  imageId: string;
  /** The node streaming it (deployment/node-registry.ts): when that node is gone, so is the upload. */
  nodeId: string;
  /** The key the upload commits its blob under. */
  blobKey: string;
  startedAt: number;
}

/** Uploads in progress; a record ends with its upload, in the transaction that settles the image. */
export interface UploadStore {
  begin(upload: UploadRecord): Promise<void>;
  find(imageId: string): Promise<UploadRecord | null>;
  end(imageId: string): Promise<void>;
  /** Uploads whose node has not been seen since `liveSince` (deployment/node-registry.ts). */
  abandoned(liveSince: number): Promise<UploadRecord[]>;
}

/**
 * A resumable upload (README "Resumable transfers"): its image, who may append to it, how far it
 * got durably, and the checkpoint to go on from there (opaque to the catalog).
 */
export interface ResumableUploadRecord {
  id: string;
  imageId: string;
  mode: "file" | "stage";
  /** The project and subject that started it: no other may append to it, read or cancel it. */
  ownerProject: string;
  ownerSubject: string;
  /** The length announced at creation (tus Upload-Length). */
  length: number;
  /** Bytes durably stored (the checkpoint's offset). */
  offset: number;
  /** The key the data is committed under once complete. */
  blobKey: string;
  /** What the image's declared format accepts, decided at creation. */
  allowedFormats: DiskFormat[];
  /** How the data is named in refusals ("disk_format qcow2"). */
  label: string;
  checkpoint: string;
  createdAt: number;
  updatedAt: number;
  /** When it is given up unless appended to (each checkpoint moves it). */
  expiresAt: number;
}

/** Who appends to a resumable upload now: one request, on one node, until `until` unless renewed. */
export interface UploadLease {
  holder: string;
  nodeId: string;
  until: number;
}

/** Resumable uploads in progress; a row ends when its data is settled, cancelled or expired. */
export interface ResumableUploadStore {
  create(record: ResumableUploadRecord): Promise<void>;
  /** Records the first checkpoint of an upload just created (its data now exists). */
  start(id: string, checkpoint: string): Promise<void>;
  find(id: string): Promise<ResumableUploadRecord | null>;
  /**
   * Takes the lease for `lease.holder` when nobody holds it, its time is up, its node is gone
   * (not seen since `liveSince`), or it is this node's (whose request the caller stopped first).
   */
  lease(id: string, lease: UploadLease, now: number, liveSince: number): Promise<boolean>;
  /** Records a checkpoint while `holder` holds the lease (false when it lost it). */
  checkpoint(
    id: string,
    holder: string,
    at: { offset: number; checkpoint: string; now: number; expiresAt: number; leaseUntil: number },
  ): Promise<boolean>;
  /** Moves the lease's end while `holder` holds it (a slow request between checkpoints). */
  renew(id: string, holder: string, until: number): Promise<boolean>;
  release(id: string, holder: string): Promise<void>;
  remove(id: string): Promise<void>;
  /** Uploads past their expiry that no live lease holds. */
  expired(now: number): Promise<ResumableUploadRecord[]>;
}

/** Where a URL import stood durably, to go on from after its worker died (README "Resumable transfers"). */
export interface ImportCheckpointRecord {
  operationId: string;
  /** Bytes of the source durably stored. */
  offset: number;
  /** The source's whole length. */
  length: number;
  /** The version of the source read (ETag or Last-Modified): a resumed read must get the same. */
  validator: string;
  checkpoint: string;
  updatedAt: number;
}

/**
 * The caller's credential an operation acts with elsewhere (a glance-download reads the other
 * region as the caller), held only while the operation runs: never shown, never copied.
 */
export interface OperationCredentialStore {
  find(operationId: string): Promise<string | null>;
  save(operationId: string, credential: string): Promise<void>;
  remove(operationId: string): Promise<void>;
}

export interface ImportCheckpointStore {
  find(operationId: string): Promise<ImportCheckpointRecord | null>;
  /** Records the operation's checkpoint (replacing its earlier one). */
  save(record: ImportCheckpointRecord): Promise<void>;
  remove(operationId: string): Promise<void>;
}

/** Bytes held for an upload or import while its data streams in (the image's size once committed). */
export interface DataReservation {
  imageId: string;
  projectId: string;
  bytes: number;
  /** Data staged for an import (image_stage_total) rather than stored (image_size_total). */
  staged: boolean;
  /** The node streaming it: when that node is gone, the reservation goes (deployment/node-registry.ts). */
  nodeId: string;
  createdAt: number;
}

/** A limit configured in the catalog: for one project, or (projectId null) the default for all. */
export interface QuotaLimitRecord {
  projectId: string | null;
  resource: QuotaResource;
  value: number;
}

/**
 * What quotas need of the catalog: a project's usage, the reservations of data on its way in, and
 * the limits an admin configured (Keystone mode reads limits from Keystone instead).
 */
export interface QuotaStore {
  /**
   * Serialises quota decisions for one project until the transaction ends, on every node (a
   * PostgreSQL advisory lock; SQLite runs one transaction at a time anyway).
   */
  lockProject(projectId: string): Promise<void>;
  /**
   * Usage from the images themselves plus the reservations not yet settled. Data that several
   * images of the project share counts once.
   */
  usage(projectId: string): Promise<QuotaUsage>;
  /** Whether an image of the project other than `except` holds that data already (it counts once). */
  holdsData(projectId: string, blobKey: string, except: string): Promise<boolean>;
  /** Records (or replaces) the reservation of an image. */
  reserve(reservation: DataReservation): Promise<void>;
  reservation(imageId: string): Promise<DataReservation | null>;
  /** Releases the image's reservation (only if `nodeId` holds it, when named). */
  release(imageId: string, nodeId?: string): Promise<void>;
  /** Reservations whose node has not been seen since `liveSince`. */
  abandoned(liveSince: number): Promise<DataReservation[]>;
  /** The configured limits: the defaults and one project's (all projects' when none is named). */
  limits(projectId?: string): Promise<QuotaLimitRecord[]>;
  /** Sets a limit, or removes it (value null). */
  setLimit(projectId: string | null, resource: QuotaResource, value: number | null): Promise<void>;
  /** Projects holding images, those storing the most bytes first (at most `limit`). */
  projects(limit: number): Promise<string[]>;
}

/** Per-folder lifecycle settings and retention rules (core/lifecycle). */
export interface LifecycleStore {
  /** The folder's recycle-bin retention, or null when it follows the installation's. */
  binRetention(folderId: string): Promise<number | null>;
  setBinRetention(folderId: string, seconds: number | null): Promise<void>;
  rules(folderId: string): Promise<RetentionRule[]>;
  rule(folderId: string, family: string): Promise<RetentionRule | null>;
  /** Adds or replaces the folder's rule for its family. */
  putRule(rule: RetentionRule): Promise<void>;
  /** False when there was none. */
  deleteRule(folderId: string, family: string): Promise<boolean>;
  /** The images of a family (one kind, one folder) holding data, newest first. */
  familyWithData(kind: ImageKind, folderId: string, family: string): Promise<Image[]>;
  /** A folder's images in the recycle bin, soonest purged last; keyset on (binnedAt, id) descending. */
  binned(folderId: string, limit: number, after?: { binnedAt: number; id: string }): Promise<Image[]>;
  /** Records a use of the image (not a change: neither its version nor `updatedAt` moves). */
  recordUse(imageId: string, now: number): Promise<void>;
}

/** Per-folder settings other than the lifecycle's (core/conversion). */
export interface FolderSettingsStore {
  /** The folder's own conversion policy, or null when it follows the installation's. */
  conversion(folderId: string): Promise<ConversionPolicy | null>;
  setConversion(folderId: string, policy: ConversionPolicy | null): Promise<void>;
}

/** Which namespaces a caller sees: admins all, others the public ones and their project's. */
export interface NamespaceViewer {
  isAdmin: boolean;
  projectId: string;
}

export interface NamespaceListQuery {
  viewer: NamespaceViewer;
  visibility?: NamespaceVisibility;
  /** Only namespaces associated with one of these resource types. */
  resourceTypes?: string[];
  sortKey: "created_at" | "updated_at" | "namespace";
  sortDir: "asc" | "desc";
  /** Resume after this namespace (its sort value and name). */
  after?: MetadefNamespace;
  limit: number;
}

/** Metadata definitions: namespaces, their named entries and resource-type associations. */
export interface MetadefStore {
  /** ALREADY_EXISTS when the name is taken. */
  insertNamespace(ns: MetadefNamespace): Promise<void>;
  findNamespace(name: string): Promise<MetadefNamespace | null>;
  /** `limit + 1` rows (is there more?). */
  listNamespaces(query: NamespaceListQuery): Promise<MetadefNamespace[]>;
  /** Saves `next` over the namespace with `next.id`; ALREADY_EXISTS when a rename hits a taken name. */
  updateNamespace(next: MetadefNamespace): Promise<void>;
  /** Removes the namespace with everything it holds. */
  deleteNamespace(id: string): Promise<void>;
  /** One kind of a namespace's entries, oldest first. */
  listEntries(namespaceId: string, kind: EntryKind): Promise<MetadefEntry[]>;
  findEntry(namespaceId: string, kind: EntryKind, name: string): Promise<MetadefEntry | null>;
  countEntries(namespaceId: string, kind: EntryKind): Promise<number>;
  /** ALREADY_EXISTS when the namespace has an entry of that kind and name. */
  insertEntry(namespaceId: string, entry: MetadefEntry): Promise<void>;
  /** Replaces the entry named `name` (possibly renaming it); ALREADY_EXISTS when the new name is taken. */
  updateEntry(namespaceId: string, name: string, entry: MetadefEntry): Promise<void>;
  /** False when there was none. */
  deleteEntry(namespaceId: string, kind: EntryKind, name: string): Promise<boolean>;
  deleteEntries(namespaceId: string, kind: EntryKind): Promise<void>;
  touchNamespace(namespaceId: string, now: number): Promise<void>;
  resourceTypes(): Promise<MetadefResourceType[]>;
  findResourceType(name: string): Promise<MetadefResourceType | null>;
  insertResourceType(type: MetadefResourceType): Promise<void>;
  associations(namespaceId: string): Promise<ResourceTypeAssociation[]>;
  /** The associations of several namespaces in one read, by namespace id (every id present). */
  associationsOf(namespaceIds: string[]): Promise<Map<string, ResourceTypeAssociation[]>>;
  /** ALREADY_EXISTS when the namespace is already associated with that type. */
  associate(namespaceId: string, association: ResourceTypeAssociation): Promise<void>;
  /** False when there was none. */
  dissociate(namespaceId: string, resourceType: string): Promise<boolean>;
}

/**
 * The outbox (README "Events and audit"). The catalog appends the event of every change it
 * stores in the change's own transaction; the core appends what is not a change (a download).
 */
export interface EventLog {
  append(event: NewEvent): Promise<void>;
  /** The events of one image, oldest first (the image's history as consumers received it). */
  ofImage(imageId: string, limit: number): Promise<EventRecord[]>;
}

/** Webhook subscriptions per folder and their deliveries. */
export interface WebhookStore {
  insert(subscription: WebhookSubscription): Promise<void>;
  find(id: string): Promise<WebhookSubscription | null>;
  list(folderId: string): Promise<WebhookSubscription[]>;
  /** False when there was none. */
  delete(id: string): Promise<boolean>;
  /** A subscription's deliveries of one status, newest first, keyset on `event_seq`; `limit + 1` rows. */
  deliveries(
    subscriptionId: string,
    status: WebhookDelivery["status"] | null,
    limit: number,
    beforeSeq?: number,
  ): Promise<WebhookDelivery[]>;
  /** Puts a dead delivery back in the queue (attempts start over); false when it is not dead. */
  redeliver(subscriptionId: string, deliveryId: string, now: number): Promise<boolean>;
}

/** Audit records, queried by admins for a time window. */
export interface AuditStore {
  /** Oldest first within the window, keyset on `seq`; `limit + 1` rows. */
  list(query: AuditQuery): Promise<AuditRecord[]>;
}

/** The stores, bound to the database or to one transaction. */
export interface CatalogStores {
  images: ImageStore;
  imageViews: ImageReadModel;
  operations: OperationStore;
  members: MemberStore;
  bindings: AccessBindingStore;
  subjects: SubjectStore;
  uploads: UploadStore;
  resumableUploads: ResumableUploadStore;
  importCheckpoints: ImportCheckpointStore;
  operationCredentials: OperationCredentialStore;
  metadefs: MetadefStore;
  quotas: QuotaStore;
  lifecycle: LifecycleStore;
  folders: FolderSettingsStore;
  events: EventLog;
  webhooks: WebhookStore;
  audit: AuditStore;
}

/**
 * What the core needs of the metadata database. The service's catalog holds more (the tokens
 * auth/ reads, the node registry deployment/ keeps): those ports live beside their users.
 */
export interface Catalog extends CatalogStores {
  /** Runs `work` in one transaction: all its writes commit together, or none does. */
  transaction<T>(work: (tx: CatalogStores) => Promise<T>): Promise<T>;
  /** Throws when the database cannot be reached (readiness probe). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
