import fsp from "node:fs/promises";
import { hostname } from "node:os";
import type { Logger } from "pino";
import type { BlobStoreIdentity } from "../core/ports/blob-store.js";
import type { NodeRecord, NodeRegistry } from "./node-registry.js";
import { newResourceId } from "../core/ids.js";
import { isProcessAlive } from "../process-alive.js";
import { deploymentConflicts } from "./deployment-check.js";
import { networkFilesystemOf } from "./network-filesystem.js";

/** How often a node refreshes its record, and how long a record counts as a running node. */
export const HEARTBEAT_MS = 10_000;
export const LIVE_MS = 3 * HEARTBEAT_MS;

export interface NodePresence {
  readonly id: string;
  /** Stops the heartbeat and removes the node's record (a clean stop). */
  leave(): Promise<void>;
}

export interface JoinOptions {
  catalog: { nodes: NodeRegistry };
  catalogKind: "sqlite" | "postgres";
  /** The SQLite catalog's directory (checked for a network file system). */
  dataDir: string;
  blobs: BlobStoreIdentity;
  role: string;
  log: Logger;
}

/**
 * Registers this node with the catalog it serves and keeps the record fresh, after checking that
 * it can join safely: it refuses (throws) a SQLite catalog on a network file system, and the
 * conflicts deploymentConflicts names with the nodes running now.
 */
export async function joinDeployment(opts: JoinOptions): Promise<NodePresence> {
  const { catalog, log } = opts;
  if (opts.catalogKind === "sqlite") {
    const network = await networkFilesystemOf(opts.dataDir);
    if (network !== null) {
      throw new Error(
        `the SQLite catalog in ${opts.dataDir} is on ${network}, a network file system where SQLite's locks do not hold: keep the data directory on a local disk, or use --database postgres://...`,
      );
    }
  }
  const now = Date.now();
  const self: NodeRecord = {
    id: newResourceId(),
    hostname: hostname(),
    machineId: await machineId(),
    pid: process.pid,
    role: opts.role,
    blobStore: opts.blobs.identity(),
    startedAt: now,
    seenAt: now,
  };
  // Registered before looking, so that of two nodes starting at once each sees the other.
  await catalog.nodes.register(self);
  const running: NodeRecord[] = [];
  for (const node of await catalog.nodes.seenSince(now - LIVE_MS)) {
    // A node of this machine whose process is gone was killed: no need to wait for its record to age.
    if (node.id !== self.id && isDeadHere(node, self)) await catalog.nodes.remove(node.id);
    else running.push(node);
  }
  const conflicts = deploymentConflicts({ ...self, catalog: opts.catalogKind }, running);
  if (conflicts.length > 0) {
    await catalog.nodes.remove(self.id);
    throw new Error(`this node cannot join safely: ${conflicts.join("; ")}`);
  }

  const timer = setInterval(() => {
    const at = Date.now();
    catalog.nodes
      .heartbeat(self.id, at)
      .then((present) => (present ? undefined : catalog.nodes.register({ ...self, seenAt: at })))
      .catch((err: unknown) => log.warn({ err }, "could not refresh this node's record"));
  }, HEARTBEAT_MS);
  timer.unref();
  return {
    id: self.id,
    leave: async () => {
      clearInterval(timer);
      await catalog.nodes
        .remove(self.id)
        .catch((err: unknown) => log.warn({ err }, "could not remove this node's record"));
    },
  };
}

/** Whether `node` ran on this machine (and in this process namespace: same host name) and its process is gone. */
function isDeadHere(node: NodeRecord, self: NodeRecord): boolean {
  return node.machineId === self.machineId && node.hostname === self.hostname && !isProcessAlive(node.pid);
}

/** The kernel's boot id: the same for every process and container of one machine, until it reboots. */
async function machineId(): Promise<string> {
  try {
    return (await fsp.readFile("/proc/sys/kernel/random/boot_id", "utf8")).trim();
  } catch {
    return hostname();
  }
}
