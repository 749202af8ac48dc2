import type { FormatInspector } from "./inspector.js";
import { partitionTable } from "./partitions.js";

/** Plain bytes: what data is when no other format claims it; a partition table inside is checked. */
export const rawInspector: FormatInspector = {
  format: "raw",
  matches: () => true,
  inspect: ({ head, tail, total }) => ({
    virtualSize: total,
    findings: partitionTable(head, tail, total).findings,
  }),
};
