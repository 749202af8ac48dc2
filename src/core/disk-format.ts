/** Disk image formats the inspector can name (inspect/ detects them; the core decides which are accepted). */
export type DiskFormat = "raw" | "qcow2" | "vmdk" | "vhd" | "vhdx" | "vdi" | "iso";

export interface FormatVerdict {
  format: DiskFormat;
  /** The disk size a guest sees, in bytes (for raw, the file size). */
  virtualSize: number;
  /** Safety findings: each is a reason to refuse the image (see inspect/qcow2.ts, vmdk.ts). */
  findings: string[];
}
