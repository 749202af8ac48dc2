import type { FormatInspector } from "./inspector.js";
import { isoInspector } from "./iso.js";
import { qcow2Inspector } from "./qcow2.js";
import { rawInspector } from "./raw.js";
import { vdiInspector } from "./vdi.js";
import { vhdInspector } from "./vhd.js";
import { vhdxInspector } from "./vhdx.js";
import { vmdkInspector } from "./vmdk.js";

/**
 * Every format with a signature, most specific first: the first that matches names the data, and
 * more than one match is a polyglot. Data no format claims is raw.
 */
export const INSPECTORS: readonly FormatInspector[] = [
  qcow2Inspector,
  vmdkInspector,
  vhdxInspector,
  vdiInspector,
  vhdInspector,
  isoInspector,
];

export const FALLBACK_INSPECTOR: FormatInspector = rawInspector;
