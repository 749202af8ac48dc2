import type { FormatInspector } from "./inspector.js";
/**
 * VirtualBox VDI header (v1.1): what a reader relies on must be consistent — the image type,
 * 512-byte sectors and 1 MiB blocks, sector-aligned block map and data, enough blocks for the
 * disk size — and the block map and the allocated blocks must fit in the file.
 * Offsets: type 0x4C, blocks map 0x154, data 0x158, sector size 0x168, disk size 0x170,
 * block size 0x178, blocks 0x180, allocated blocks 0x184.
 */
const MIB = 1024 * 1024;

export function vdiFindings(head: Buffer, total: number): string[] {
  if (head.length < 0x188) return ["vdi: the header is truncated"];
  const type = head.readUInt32LE(0x4c);
  const mapOffset = head.readUInt32LE(0x154);
  const dataOffset = head.readUInt32LE(0x158);
  const sectorSize = head.readUInt32LE(0x168);
  const diskSize = head.readBigUInt64LE(0x170);
  const blockSize = head.readUInt32LE(0x178);
  const blocks = head.readUInt32LE(0x180);
  const allocated = head.readUInt32LE(0x184);
  if (type !== 1 && type !== 2) return [`vdi: unsupported image type ${type}`];
  // A differencing image names its parent by these UUIDs: it would make the reader open another file.
  if (head.length < 0x1c8 || head.subarray(0x1a8, 0x1c8).some((b) => b !== 0))
    return ["vdi: the image links to a parent image (it would make the hypervisor open another file)"];
  if (sectorSize !== 512 || blockSize !== MIB) return ["vdi: unsupported sector or block size"];
  if (mapOffset % 512 !== 0 || dataOffset % 512 !== 0)
    return ["vdi: the block map or data is not sector-aligned"];
  if (BigInt(blocks) * BigInt(blockSize) < diskSize)
    return [`vdi: ${blocks} blocks cannot hold ${diskSize} bytes`];
  if (mapOffset + blocks * 4 > total) return ["vdi: the block map lies past the end of the file"];
  if (allocated > blocks) return [`vdi: ${allocated} allocated blocks of ${blocks}`];
  if (dataOffset + allocated * blockSize > total)
    return ["vdi: allocated blocks lie past the end of the file"];
  return [];
}

const VDI_SIGNATURE = 0xbeda107f;

export const vdiInspector: FormatInspector = {
  format: "vdi",
  matches: ({ head }) => head.length >= 0x48 && head.readUInt32LE(0x40) === VDI_SIGNATURE,
  inspect: ({ head, total }) => ({
    virtualSize: head.length >= 0x178 ? Number(head.readBigUInt64LE(0x170)) : 0,
    findings: vdiFindings(head, total),
  }),
};
