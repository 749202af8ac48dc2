import type { NodeRecord } from "./node-registry.js";

export interface NodeSelf extends NodeRecord {
  /** Which database holds the catalog: one SQLite file is safe for the processes of one machine only. */
  catalog: "sqlite" | "postgres";
}

/**
 * Why this node may not join the nodes already serving its catalog (empty when it may). Every
 * reason is a deployment that would lose or corrupt data, not a preference:
 * - SQLite shared by processes of several machines (through a network file system): its locks do
 *   not hold across machines, so concurrent writes corrupt the catalog;
 * - nodes that write image bytes to different blob stores: an image whose bytes one node stored
 *   is READY without bytes on every other node.
 */
export function deploymentConflicts(self: NodeSelf, others: readonly NodeRecord[]): string[] {
  const conflicts: string[] = [];
  for (const other of others) {
    if (other.id === self.id) continue;
    const who = `node ${other.hostname} (pid ${other.pid}, role ${other.role})`;
    if (self.catalog === "sqlite" && other.machineId !== self.machineId) {
      conflicts.push(
        `${who} on another machine serves the same SQLite catalog; SQLite is safe for the processes of one machine only: use --database postgres://... for several machines`,
      );
    }
    if (other.blobStore !== self.blobStore) {
      conflicts.push(
        `${who} stores image bytes in ${other.blobStore}, this node in ${self.blobStore}: images stored by one would have no bytes on the other; give every node the same --blob-store (an S3 bucket, or one shared directory)`,
      );
    }
  }
  return conflicts;
}
