import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import type { SourceData } from "../../core/ports/ingest.js";
import { invalidArgument, notFound } from "../../core/errors.js";

/** A disk or snapshot the image can be made from. */
export type VolumeKind = "disk" | "snapshot";

/** Where disks and snapshots come from. The built-in one reads files; a cloud would plug its own. */
export interface VolumeSource {
  open(kind: VolumeKind, id: string): Promise<SourceData>;
}

const EXTENSIONS = ["qcow2", "raw", "img", "vmdk", "vhd"];
const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,49}$/;

/**
 * Disks and snapshots as files `<id>.<ext>` in two directories, the layout a KVM/libvirt host
 * keeps (`VITRINE_DISKS_DIR`, `VITRINE_SNAPSHOTS_DIR`).
 */
export class DirectoryVolumeSource implements VolumeSource {
  constructor(private readonly dirs: Record<VolumeKind, string | null>) {}

  async open(kind: VolumeKind, id: string): Promise<SourceData> {
    const field = `${kind}Id`;
    // The id becomes part of a path: refuse anything that could climb out of the directory.
    if (!SAFE_ID.test(id) || id.includes("..")) {
      throw invalidArgument(`${field}: invalid ${kind} id`, [{ field, description: `invalid ${kind} id` }]);
    }
    const dir = this.dirs[kind];
    const label = kind === "disk" ? "Disk" : "Snapshot";
    if (dir) {
      for (const ext of EXTENSIONS) {
        const file = path.join(dir, `${id}.${ext}`);
        try {
          const st = await fsp.stat(file);
          if (st.isFile()) return { stream: fs.createReadStream(file), length: st.size };
        } catch {
          // try the next extension
        }
      }
    }
    throw notFound(`${label} ${id} not found`);
  }
}
