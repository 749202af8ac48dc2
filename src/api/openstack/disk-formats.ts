import type { DeclaredFormats } from "../../core/format-policy.js";

/** The detected formats each declared `disk_format` accepts (the format-mismatch rule). */
export const DECLARED_FORMATS: DeclaredFormats = {
  field: "disk_format",
  accepted: {
    raw: ["raw"],
    qcow2: ["qcow2"],
    vmdk: ["vmdk"],
    vhd: ["vhd"],
    vhdx: ["vhdx"],
    vdi: ["vdi"],
    iso: ["iso"],
    // Kernel, ramdisk and machine images of the EC2 family, and Virtuozzo ploop, are plain bytes to us.
    ami: ["raw"],
    ari: ["raw"],
    aki: ["raw"],
    ploop: ["raw"],
    // zvhd/zvhd2 are a public cloud's compressed VHD variants; we cannot look inside them.
    zvhd: ["vhd", "raw"],
    zvhd2: ["vhd", "raw"],
  },
};
