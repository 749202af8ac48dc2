import CRC32 from "crc-32";

/**
 * Partition tables inside raw disks and ISO images (a hybrid ISO carries an MBR, often a GPT).
 * They are not formats of their own but must be sound: a table pointing past the end of the
 * file, or a GPT whose header fails its CRC, marks a truncated or forged image.
 */
export interface PartitionTable {
  kind: "mbr" | "gpt" | "vbr" | null;
  findings: string[];
}

const SECTOR = 512;

const hasBootSignature = (head: Buffer): boolean =>
  head.length >= SECTOR && head[510] === 0x55 && head[511] === 0xaa;

/**
 * Whether the first sector is a well-formed MBR with at least one partition: the boot signature,
 * every entry's status byte 0x00 or 0x80, and a used entry with a start and a length.
 */
export function hasMbrPartitions(head: Buffer): boolean {
  if (!hasBootSignature(head)) return false;
  let used = 0;
  for (let i = 0; i < 4; i++) {
    const e = 446 + i * 16;
    if (head[e] !== 0x00 && head[e] !== 0x80) return false;
    if (head[e + 4] !== 0 && head.readUInt32LE(e + 8) > 0 && head.readUInt32LE(e + 12) > 0) used++;
  }
  return used > 0;
}

/**
 * A volume boot record (a FAT, NTFS or exFAT file system starting at sector 0, a "superfloppy"
 * with no partition table): its boot signature is not an MBR's, and the bytes where an MBR keeps
 * its entries are boot code. Recognised by the jump instruction and a sane BIOS parameter block.
 */
function isVolumeBootRecord(head: Buffer): boolean {
  const jump = (head[0] === 0xeb && head[2] === 0x90) || head[0] === 0xe9;
  if (!jump) return false;
  const oem = head.toString("latin1", 3, 11);
  if (oem === "NTFS    " || oem === "EXFAT   ") return true;
  const bytesPerSector = head.readUInt16LE(11);
  const sectorsPerCluster = head[13]!;
  const reservedSectors = head.readUInt16LE(14);
  const fats = head[16]!;
  return (
    [512, 1024, 2048, 4096].includes(bytesPerSector) &&
    sectorsPerCluster > 0 &&
    (sectorsPerCluster & (sectorsPerCluster - 1)) === 0 &&
    reservedSectors >= 1 &&
    (fats === 1 || fats === 2)
  );
}

export function partitionTable(head: Buffer, tail: Buffer, total: number): PartitionTable {
  if (!hasBootSignature(head)) return { kind: null, findings: [] };
  if (isVolumeBootRecord(head)) return { kind: "vbr", findings: [] };
  const findings: string[] = [];
  const sectors = Math.floor(total / SECTOR);
  let protective = false;
  for (let i = 0; i < 4; i++) {
    const e = 446 + i * 16;
    const type = head[e + 4]!;
    if (type === 0) continue;
    if (type === 0xee) {
      protective = true;
      continue;
    }
    const start = head.readUInt32LE(e + 8);
    const count = head.readUInt32LE(e + 12);
    if (start + count > sectors) {
      findings.push(
        `mbr: partition ${i + 1} ends at sector ${start + count}, past the end of the file (${sectors})`,
      );
    }
  }
  if (!protective || head.length < 2 * SECTOR || head.toString("latin1", SECTOR, SECTOR + 8) !== "EFI PART") {
    return { kind: "mbr", findings };
  }
  return { kind: "gpt", findings: [...findings, ...gptFindings(head, tail, sectors)] };
}

function headerCrcMatches(h: Buffer, headerSize: number): boolean {
  const copy = Buffer.from(h.subarray(0, headerSize));
  copy.writeUInt32LE(0, 16);
  return CRC32.buf(copy) >>> 0 === h.readUInt32LE(16);
}

/** The backup GPT header in the last sector: its signature, its CRC, and where it says it is. */
function backupHeaderSound(tail: Buffer, sectors: number): boolean {
  if (tail.length !== SECTOR || tail.toString("latin1", 0, 8) !== "EFI PART") return false;
  const headerSize = tail.readUInt32LE(12);
  if (headerSize < 92 || headerSize > SECTOR || !headerCrcMatches(tail, headerSize)) return false;
  const myLba = Number(tail.readBigUInt64LE(24));
  const lastUsable = Number(tail.readBigUInt64LE(48));
  return myLba === sectors - 1 && lastUsable < sectors;
}

function gptFindings(head: Buffer, tail: Buffer, sectors: number): string[] {
  const findings: string[] = [];
  const h = head.subarray(SECTOR, 2 * SECTOR);
  const headerSize = h.readUInt32LE(12);
  if (headerSize < 92 || headerSize > SECTOR) return [`gpt: header size ${headerSize} is invalid`];
  if (!headerCrcMatches(h, headerSize)) {
    // Firmware and partitioning tools fall back to the backup header at the last sector (UEFI
    // 2.10, 5.3.2): a disk whose primary header is damaged but whose backup is sound is honest.
    return backupHeaderSound(tail, sectors)
      ? []
      : ["gpt: the header CRC does not match (and no sound backup header)"];
  }
  const alternate = Number(h.readBigUInt64LE(32));
  const lastUsable = Number(h.readBigUInt64LE(48));
  const entriesLba = Number(h.readBigUInt64LE(72));
  const entryCount = h.readUInt32LE(80);
  const entrySize = h.readUInt32LE(84);
  if (alternate >= sectors)
    findings.push(`gpt: the backup header (sector ${alternate}) lies past the end of the file`);
  if (lastUsable >= sectors)
    findings.push(`gpt: the last usable sector ${lastUsable} lies past the end of the file`);
  if (alternate === sectors - 1 && tail.length === SECTOR && tail.toString("latin1", 0, 8) !== "EFI PART") {
    findings.push("gpt: the backup header is missing (the file is truncated or altered)");
  }
  const entriesStart = entriesLba * SECTOR;
  const entriesBytes = entryCount * entrySize;
  if (entrySize < 128 || entryCount > 1024 || entriesStart + entriesBytes > head.length) {
    findings.push("gpt: the partition entry array is out of bounds");
    return findings;
  }
  const entries = head.subarray(entriesStart, entriesStart + entriesBytes);
  if (CRC32.buf(entries) >>> 0 !== h.readUInt32LE(88))
    findings.push("gpt: the partition entry array CRC does not match");
  for (let i = 0; i < entryCount; i++) {
    const e = entries.subarray(i * entrySize, (i + 1) * entrySize);
    if (e.subarray(0, 16).every((b) => b === 0)) continue;
    const last = Number(e.readBigUInt64LE(40));
    if (last >= sectors)
      findings.push(`gpt: partition ${i + 1} ends at sector ${last}, past the end of the file`);
  }
  return findings;
}
