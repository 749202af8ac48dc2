import { authorize } from "../access.js";
import type { CoreDeps } from "../core-deps.js";
import { permissionDenied } from "../errors.js";
import type { Principal } from "../principal.js";
import { type ConversionPolicy, checkKeepFormats, checkTargetFormat } from "./conversion-policy.js";

/** A folder's conversion setting as reports show it. */
export interface ConversionSettings {
  folderId: string;
  /** What applies (the folder's own, or the installation's). */
  policy: ConversionPolicy;
  /** The folder's own policy, null when it follows the installation's. */
  folderPolicy: ConversionPolicy | null;
  installationPolicy: ConversionPolicy;
}

export async function getConversionSettings(
  deps: Pick<CoreDeps, "catalog" | "conversion">,
  principal: Principal,
  folderId: string,
): Promise<ConversionSettings> {
  authorize(principal, "images.list", folderId);
  const own = await deps.catalog.folders.conversion(folderId);
  return { folderId, policy: own ?? deps.conversion, folderPolicy: own, installationPolicy: deps.conversion };
}

/** What a request sets: a target ("none": no conversion) and the formats kept; null: follow the installation. */
export type ConversionSettingInput = { target: string; keep: string[] } | null;

/** Sets (or, null, removes) a folder's own policy: the service admin's, as the installation's is. */
export async function setConversionSettings(
  deps: Pick<CoreDeps, "catalog" | "conversion">,
  principal: Principal,
  folderId: string,
  input: ConversionSettingInput,
): Promise<ConversionSettings> {
  if (!principal.isAdmin) throw permissionDenied("Only the service admin may set a folder's conversion");
  const policy =
    input === null
      ? null
      : {
          target: input.target === "none" ? null : checkTargetFormat("target", input.target),
          keep: checkKeepFormats("keep", input.keep),
        };
  await deps.catalog.folders.setConversion(folderId, policy);
  return getConversionSettings(deps, principal, folderId);
}
