/**
 * VHD footer check (Microsoft VHD specification, "Hard Disk Footer Format"): the checksum at
 * offset 64 is the one's complement of the byte sum of the footer without that field. A footer
 * that fails it is corrupt, or was forged onto data that is something else.
 */
export function vhdFooterFindings(footer: Buffer): string[] {
  let sum = 0;
  for (let i = 0; i < 512; i++) if (i < 64 || i >= 68) sum += footer[i]!;
  const expected = ~sum >>> 0;
  const stored = footer.readUInt32BE(64);
  return stored === expected
    ? []
    : [`vhd: footer checksum 0x${stored.toString(16)} does not match 0x${expected.toString(16)}`];
}
