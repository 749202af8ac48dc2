/** The nodes sharing one catalog, as deployment/ keeps them (storage/meta implements it). */

/** A running node of the service, as it registered itself. */
export interface NodeRecord {
  id: string;
  hostname: string;
  /** Tells machines apart (the kernel's boot id: containers of one host share it). */
  machineId: string;
  pid: number;
  role: string;
  /** The identity of the blob store the node writes image bytes to (BlobStore.identity). */
  blobStore: string;
  startedAt: number;
  seenAt: number;
}

/** The nodes serving the catalog; each refreshes `seenAt` while it runs. */
export interface NodeRegistry {
  /** Adds the node, or replaces the record with its id. */
  register(node: NodeRecord): Promise<void>;
  /** Refreshes `seenAt`; false when the record is gone. */
  heartbeat(id: string, now: number): Promise<boolean>;
  remove(id: string): Promise<void>;
  /** Nodes seen at or after `since`, oldest first; older records are removed. */
  seenSince(since: number): Promise<NodeRecord[]>;
}
