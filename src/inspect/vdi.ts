/**
 * VirtualBox VDI header (v1.1): the block map and the allocated blocks must fit in the file.
 * Offsets: blocks map at 0x154, data at 0x158, block size at 0x178, blocks at 0x180, allocated
 * blocks at 0x184.
 */
export function vdiFindings(head: Buffer, total: number): string[] {
  if (head.length < 0x188) return ["vdi: the header is truncated"];
  const mapOffset = head.readUInt32LE(0x154);
  const dataOffset = head.readUInt32LE(0x158);
  const blockSize = head.readUInt32LE(0x178);
  const blocks = head.readUInt32LE(0x180);
  const allocated = head.readUInt32LE(0x184);
  if (mapOffset + blocks * 4 > total) return ["vdi: the block map lies past the end of the file"];
  if (allocated > blocks) return [`vdi: ${allocated} allocated blocks of ${blocks}`];
  if (dataOffset + allocated * blockSize > total)
    return ["vdi: allocated blocks lie past the end of the file"];
  return [];
}
