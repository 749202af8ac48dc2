import type { Generated } from "kysely";

/**
 * Table shapes as Kysely sees them. Portable types only (text, bigint, integer) so the same
 * queries run on SQLite and PostgreSQL: JSON is stored as text, booleans as 0/1, timestamps as
 * epoch milliseconds.
 */
export interface ImagesTable {
  id: string;
  uuid: string;
  kind: string;
  folder_id: string;
  name: string;
  description: string;
  labels: string;
  family: string;
  min_disk_size: number;
  product_ids: string;
  os_type: string;
  pooled: number;
  hardware_generation: string | null;
  status: string;
  visibility: string;
  protected: number;
  os_hidden: number;
  tags: string;
  properties: string;
  disk_format: string | null;
  container_format: string | null;
  min_ram: number;
  size: number | null;
  virtual_size: number | null;
  checksum_md5: string | null;
  checksum_sha512: string | null;
  blob_key: string | null;
  /** Comma-separated store ids; null: the primary store (data from before multi-store). */
  stores: string | null;
  /** JSON [{url, metadata}]: URLs the data was read from (Glance's writable locations); null: none. */
  locations: string | null;
  created_at: number;
  updated_at: number;
  version: number;
  deprecation_state: string;
  replacement_id: string | null;
  replacement_uuid: string | null;
  deprecate_at: number | null;
  obsolete_at: number | null;
  delete_at: number | null;
  binned_at: number | null;
  purge_at: number | null;
  restore_status: string | null;
  last_used_at: number | null;
  use_count: number;
}

export interface OperationsTable {
  id: string;
  kind: string;
  resource_kind: string;
  resource_id: string;
  folder_id: string;
  description: string;
  created_by: string;
  created_at: number;
  modified_at: number;
  done: number;
  error: string | null;
  response: string | null;
  payload: string;
  cancel_requested: number;
  attempts: number;
  lease_owner: string | null;
  lease_expires_at: number | null;
  idempotency_key: string | null;
  request_id: string | null;
  progress_bytes: number | null;
  progress_total: number | null;
  progress_stage: string | null;
  /** A scheduled operation waits until then (epoch ms); null: as soon as a worker is free. */
  not_before: number | null;
}

export interface SubjectsTable {
  id: string;
  type: string;
  name: string;
  is_admin: number;
  created_at: number;
}

export interface TokensTable {
  id: Generated<number>;
  subject_id: string;
  token_hash: string;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
  /** The project (folder) the token is scoped to, as Keystone tokens are; null: none. */
  project_id: string | null;
}

export interface ImageMembersTable {
  image_id: string;
  member_id: string;
  status: string;
  created_at: number;
  updated_at: number;
}

export interface ImageTagsTable {
  image_id: string;
  tag: string;
}

export interface ImagePropertiesTable {
  image_id: string;
  name: string;
  value: string;
}

export interface AccessBindingsTable {
  resource_type: string;
  resource_id: string;
  subject_id: string;
  subject_type: Generated<string>;
  role: string;
}

export interface NodesTable {
  id: string;
  hostname: string;
  machine_id: string;
  pid: number;
  role: string;
  blob_store: string;
  started_at: number;
  seen_at: number;
}

export interface UploadsTable {
  image_id: string;
  node_id: string;
  blob_key: string;
  started_at: number;
}

export interface ResumableUploadsTable {
  id: string;
  image_id: string;
  mode: string;
  owner_project: string;
  owner_subject: string;
  length: number;
  offset: number;
  blob_key: string;
  allowed_formats: string;
  label: string;
  checkpoint: string;
  lease_holder: string | null;
  lease_node: string | null;
  lease_until: number | null;
  created_at: number;
  updated_at: number;
  expires_at: number;
}

export interface ImportCheckpointsTable {
  operation_id: string;
  offset: number;
  length: number;
  validator: string;
  checkpoint: string;
  updated_at: number;
}

export interface MetadefNamespacesTable {
  id: string;
  namespace: string;
  display_name: string | null;
  description: string | null;
  visibility: string;
  protected: number;
  owner: string | null;
  created_at: number;
  updated_at: number;
}

export interface MetadefEntriesTable {
  namespace_id: string;
  kind: string;
  name: string;
  /** The entry's JSON document without its name. */
  body: string;
  created_at: number;
  updated_at: number;
}

export interface MetadefResourceTypesTable {
  name: string;
  protected: number;
  created_at: number;
  updated_at: number;
}

export interface MetadefAssociationsTable {
  namespace_id: string;
  resource_type: string;
  prefix: string | null;
  properties_target: string | null;
  created_at: number;
  updated_at: number;
}

export interface QuotaLimitsTable {
  /** '*': the default for every project. */
  project_id: string;
  resource: string;
  value: number;
}

export interface QuotaReservationsTable {
  image_id: string;
  project_id: string;
  bytes: number;
  staged: number;
  node_id: string;
  created_at: number;
}

export interface FolderSettingsTable {
  folder_id: string;
  /** How long a deleted image stays in the recycle bin; null: the installation's setting. */
  bin_retention_seconds: number | null;
  /** The folder's conversion target: null, the installation's policy; "none", no conversion. */
  conversion_target: string | null;
  /** The formats the folder keeps as they are, comma-separated (with its own target only). */
  conversion_keep: string | null;
}

export interface RetentionRulesTable {
  folder_id: string;
  family: string;
  keep: number;
  action: string;
  after_seconds: number;
  created_at: number;
}

export interface Database {
  events: EventsTable;
  webhook_subscriptions: WebhookSubscriptionsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  audit_records: AuditRecordsTable;
  leases: LeasesTable;
  folder_settings: FolderSettingsTable;
  retention_rules: RetentionRulesTable;
  nodes: NodesTable;
  quota_limits: QuotaLimitsTable;
  quota_reservations: QuotaReservationsTable;
  uploads: UploadsTable;
  resumable_uploads: ResumableUploadsTable;
  import_checkpoints: ImportCheckpointsTable;
  operation_credentials: OperationCredentialsTable;
  images: ImagesTable;
  operations: OperationsTable;
  subjects: SubjectsTable;
  tokens: TokensTable;
  image_members: ImageMembersTable;
  image_tags: ImageTagsTable;
  image_properties: ImagePropertiesTable;
  access_bindings: AccessBindingsTable;
  metadef_namespaces: MetadefNamespacesTable;
  metadef_entries: MetadefEntriesTable;
  metadef_resource_types: MetadefResourceTypesTable;
  metadef_associations: MetadefAssociationsTable;
}

/** The caller's credential a glance-download import reads the other region with, while it runs. */
export interface OperationCredentialsTable {
  operation_id: string;
  credential: string;
  created_at: number;
}

/** The outbox (README "Events and audit"): one row per change, written in the change's transaction. */
export interface EventsTable {
  seq: Generated<number>;
  id: string;
  type: string;
  resource_type: string;
  resource_id: string;
  image_id: string | null;
  image_version: number | null;
  folder_id: string | null;
  /** JSON: what the event says (core/events/event.ts). */
  data: string;
  /** JSON: who made the change (request id, subject, project). */
  actor: string;
  created_at: number;
  published_at: number | null;
}

export interface WebhookSubscriptionsTable {
  id: string;
  folder_id: string;
  url: string;
  secret: string;
  /** JSON array of event type patterns ("image.*"); empty: every type. */
  types: string;
  description: string;
  created_by: string;
  created_at: number;
}

export interface WebhookDeliveriesTable {
  id: string;
  subscription_id: string;
  event_seq: number;
  /** JSON: the CloudEvent delivered (kept: the event itself may be purged before a retry). */
  event: string;
  status: "pending" | "delivered" | "dead";
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  created_at: number;
  finished_at: number | null;
}

export interface AuditRecordsTable {
  seq: Generated<number>;
  at: number;
  request_id: string;
  subject: string | null;
  project: string | null;
  dialect: string;
  method: string;
  action: string;
  resource: string | null;
  decision: string;
  status: number;
  reason: string | null;
  source: string | null;
}

/** A duty one node holds at a time (the outbox's publisher), until `until` unless renewed. */
export interface LeasesTable {
  name: string;
  holder: string;
  until: number;
}
