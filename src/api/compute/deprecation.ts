import { Type, type Static } from "@sinclair/typebox";
import type { DeprecationState } from "../../core/image.js";
import type { DeprecationInput } from "../../core/lifecycle/deprecate-image.js";
import { Rules } from "../yandex/validation.js";

/** DeprecateImageRequest's body over REST (`POST /images/{imageId}:deprecate`), in proto3 JSON. */
export const DeprecateImageFields = {
  state: Type.Optional(Type.Union([Type.String(), Type.Integer()])),
  replacement: Type.Optional(Type.String()),
  deprecateAt: Type.Optional(Type.String()),
  obsoleteAt: Type.Optional(Type.String()),
  deleteAt: Type.Optional(Type.String()),
};
export type DeprecateImageBody = Static<ReturnType<typeof Type.Object<typeof DeprecateImageFields>>>;

const STATES: readonly DeprecationState[] = ["ACTIVE", "DEPRECATED", "OBSOLETE"];

/** The request message as the core's deprecation: the state by name or number, RFC 3339 times. */
export function toDeprecationInput(req: DeprecateImageBody): DeprecationInput {
  const r = new Rules();
  const state = typeof req.state === "number" ? STATES[req.state - 1] : STATES.find((s) => s === req.state);
  if (state === undefined) r.fail("state", `must be one of ${STATES.join(", ")}`);
  const time = (field: "deprecateAt" | "obsoleteAt" | "deleteAt"): number | null => {
    const raw = req[field];
    if (raw === undefined || raw === "") return null;
    const ms = /^\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:\d{2})$/.test(raw) ? Date.parse(raw) : NaN;
    if (Number.isNaN(ms)) r.fail(field, "must be an RFC 3339 timestamp such as 2027-01-31T00:00:00Z");
    return ms;
  };
  const input: DeprecationInput = {
    state: state ?? "ACTIVE",
    replacement: req.replacement ? { kind: "compute", id: req.replacement } : null,
    deprecateAt: time("deprecateAt"),
    obsoleteAt: time("obsoleteAt"),
    deleteAt: time("deleteAt"),
  };
  if (req.replacement) r.id("replacement", req.replacement);
  r.check();
  return input;
}
