import { startsWith } from "./bytes.js";
import type { FormatInspector } from "./inspector.js";
import type { Windows } from "./windows.js";

/**
 * Safety rules for VMDK. A descriptor lists extents — files holding the data — and an extent may
 * name any path on the host (CVE-2024-32498). Only self-contained images are accepted: a sparse
 * VMDK (monolithicSparse or streamOptimized) whose embedded descriptor has exactly one SPARSE
 * extent. Bare text descriptors, flat/split/VMFS types and unknown createTypes are refused.
 */
const ALLOWED_CREATE_TYPES = new Set(["monolithicSparse", "streamOptimized"]);

export function vmdkDescriptorOnlyFindings(): string[] {
  return [
    "vmdk: a bare text descriptor refers to data in other files; upload a monolithicSparse or streamOptimized VMDK",
  ];
}

/** streamOptimized images may place the grain directory at the end, named by this marker. */
const GD_AT_END = 0xffffffffffffffffn;

/**
 * A streamOptimized VMDK whose header puts the grain directory "at the end" is read by QEMU from
 * its footer (a header copy in the second-to-last sector, after a footer marker and before the
 * end-of-stream marker), not from the header inspected here. The footer must be there and say
 * what the header says, except where the grain directory is — which must lie inside the file.
 */
export function vmdkFooterFindings(head: Buffer, end: Buffer, total: number): string[] {
  if (end.length < 1536)
    return ["vmdk: the footer is missing (the header puts the grain directory at the end)"];
  const marker = end.subarray(0, 512);
  const footer = end.subarray(512, 1024);
  const eos = end.subarray(1024, 1536);
  const MARKER_FOOTER = 3;
  if (
    marker.readUInt32LE(12) !== MARKER_FOOTER ||
    !startsWith(footer, 0, VMDK_SPARSE_MAGIC) ||
    eos.some((b) => b !== 0)
  )
    return ["vmdk: the footer is missing (the header puts the grain directory at the end)"];
  const same = (from: number, to: number) => head.subarray(from, to).equals(footer.subarray(from, to));
  // version, flags, capacity, grain size, descriptor, grain table entries, rgd; overhead; compression
  if (!same(4, 56) || !same(64, 72) || !same(77, 79))
    return ["vmdk: the footer disagrees with the header (a reader would take the image for another one)"];
  const gdOffset = footer.readBigUInt64LE(56);
  if (gdOffset === GD_AT_END || gdOffset * 512n >= BigInt(total))
    return [`vmdk: the footer's grain directory (sector ${gdOffset}) lies past the end of the file`];
  return [];
}

export function vmdkSparseFindings(head: Buffer, total: number, last: Buffer = Buffer.alloc(0)): string[] {
  if (head.length < 72) return ["vmdk: the header is truncated"];
  const version = head.readUInt32LE(4);
  if (version < 1 || version > 3) return [`vmdk: unsupported version ${version}`];
  const grainSize = head.readBigUInt64LE(20);
  const gtEntries = head.readUInt32LE(44);
  // Honest sparse extents have 512 entries per grain table and power-of-two grains up to 1 MiB.
  if (gtEntries !== 512 || grainSize < 1n || grainSize > 2048n || (grainSize & (grainSize - 1n)) !== 0n)
    return [`vmdk: grain size ${grainSize} or ${gtEntries} entries per grain table are invalid`];
  const gdOffset = head.readBigUInt64LE(56);
  const overhead = head.readBigUInt64LE(64);
  if (overhead * 512n > BigInt(total))
    return [`vmdk: the metadata (${overhead} sectors) is larger than the file (truncated)`];
  if (gdOffset !== GD_AT_END && gdOffset * 512n >= BigInt(total))
    return [`vmdk: the grain directory (sector ${gdOffset}) lies past the end of the file`];
  if (gdOffset === GD_AT_END) {
    const footer = vmdkFooterFindings(head, last, total);
    if (footer.length > 0) return footer;
  }
  const descriptorSector = Number(head.readBigUInt64LE(28));
  const descriptorSectors = Number(head.readBigUInt64LE(36));
  if (descriptorSector === 0 || descriptorSectors === 0) {
    // streamOptimized images may carry the descriptor later, but qemu-img and VMware embed it at
    // the start; without it nothing says which extents the image uses.
    return ["vmdk: no embedded descriptor"];
  }
  const start = descriptorSector * 512;
  const end = start + Math.min(descriptorSectors * 512, 64 * 1024);
  if (end > head.length) return ["vmdk: the embedded descriptor lies beyond the inspected header"];
  const text = head.subarray(start, end).toString("latin1").replace(/\0+$/, "");
  return descriptorFindings(text);
}

function descriptorFindings(text: string): string[] {
  const findings: string[] = [];
  const createType = /^\s*createType\s*=\s*"([^"]*)"/m.exec(text)?.[1];
  if (!createType) findings.push("vmdk: the descriptor has no createType");
  else if (!ALLOWED_CREATE_TYPES.has(createType))
    findings.push(
      `vmdk: createType "${createType}" is not allowed; only monolithicSparse and streamOptimized are`,
    );
  const extents = [...text.matchAll(/^\s*(RW|RDONLY|NOACCESS)\s+\d+\s+(\S+)/gm)];
  if (extents.length !== 1)
    findings.push(`vmdk: the descriptor lists ${extents.length} extents; exactly one is allowed`);
  for (const m of extents)
    if (m[2] !== "SPARSE") findings.push(`vmdk: extent type ${m[2]} refers to data outside the image`);
  return findings;
}

/**
 * Collects a sparse VMDK's grain directory as it streams past (a window), to check at the end
 * that every grain table it names lies inside the file.
 */
export class VmdkGrainDirectoryReader {
  private gtEnd: number | null = null;

  constructor(head: Buffer, windows: Windows) {
    const capacity = head.readBigUInt64LE(12);
    const grainSize = head.readBigUInt64LE(20);
    const gtEntries = head.readUInt32LE(44);
    const gdOffset = head.readBigUInt64LE(56);
    if (grainSize === 0n || gtEntries === 0 || gdOffset === GD_AT_END) return;
    const coveredByTable = grainSize * BigInt(gtEntries);
    const gdEntries = Number((capacity + coveredByTable - 1n) / coveredByTable);
    windows.want(Number(gdOffset) * 512, gdEntries * 4, (gd) => {
      let end = 0;
      for (let i = 0; i + 4 <= gd.length; i += 4) {
        const sector = gd.readUInt32LE(i);
        if (sector !== 0) end = Math.max(end, sector * 512 + gtEntries * 4);
      }
      this.gtEnd = end;
    });
  }

  endFindings(total: number): string[] {
    return this.gtEnd !== null && this.gtEnd > total
      ? [`vmdk: a grain table lies past the end of the file (${total} bytes)`]
      : [];
  }
}

const VMDK_SPARSE_MAGIC = Buffer.from("KDMV", "latin1");
const VMDK_DESCRIPTOR = Buffer.from("# Disk DescriptorFile", "latin1");

export const vmdkInspector: FormatInspector = {
  format: "vmdk",
  matches: ({ head }) => startsWith(head, 0, VMDK_SPARSE_MAGIC) || startsWith(head, 0, VMDK_DESCRIPTOR),
  startReader: (head, windows) =>
    startsWith(head, 0, VMDK_SPARSE_MAGIC) ? new VmdkGrainDirectoryReader(head, windows) : null,
  inspect: ({ head, end, total }, reader) => {
    if (startsWith(head, 0, VMDK_DESCRIPTOR)) {
      return { virtualSize: descriptorCapacity(head), findings: vmdkDescriptorOnlyFindings() };
    }
    return {
      virtualSize: head.length >= 20 ? Number(head.readBigUInt64LE(12)) * 512 : 0,
      findings: [...vmdkSparseFindings(head, total, end), ...(reader?.endFindings(total) ?? [])],
    };
  },
};

/** Sum of the extent sizes (in 512-byte sectors) a text VMDK descriptor declares. */
function descriptorCapacity(head: Buffer): number {
  const text = head.toString("latin1");
  let sectors = 0;
  for (const m of text.matchAll(/^\s*(?:RW|RDONLY|NOACCESS)\s+(\d+)\s/gm)) sectors += Number(m[1]);
  return sectors * 512;
}
