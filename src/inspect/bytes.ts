/** Whether `buf` holds `magic` at `offset`. */
export function startsWith(buf: Buffer, offset: number, magic: Buffer): boolean {
  return buf.length >= offset + magic.length && buf.subarray(offset, offset + magic.length).equals(magic);
}
