import fsp from "node:fs/promises";

/**
 * File systems shared over a network or a cluster, by statfs magic number (linux/magic.h): SQLite
 * cannot lock a database on them reliably, so several writers corrupt it.
 */
const NETWORK_FILESYSTEMS = new Map<number, string>([
  [0x6969, "NFS"],
  [0x517b, "SMB"],
  [0xff534d42, "CIFS"],
  [0xfe534d42, "SMB2"],
  [0x00c36400, "CephFS"],
  [0x5346414f, "AFS"],
  [0x73757245, "Coda"],
  [0x0bd00bd0, "Lustre"],
  [0x01161970, "GFS2"],
  [0x7461636f, "OCFS2"],
]);

export function networkFilesystemName(statfsType: number): string | null {
  return NETWORK_FILESYSTEMS.get(statfsType >>> 0) ?? null;
}

/** The network file system `dir` lives on, or null for a local one. */
export async function networkFilesystemOf(dir: string): Promise<string | null> {
  return networkFilesystemName((await fsp.statfs(dir)).type);
}
