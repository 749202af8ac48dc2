import { type ErrorArgs, type ErrorReason, VitrineError } from "../errors.js";

/**
 * What a project may hold, by Glance's resource names (Keystone unified limits, service `glance`),
 * so an OpenStack operator's `openstack registered limit create --service glance ...` means the
 * same here:
 * - image_count_total: images the project has, whatever their status;
 * - image_size_total: bytes of the images holding data (stored or being stored), staged data
 *   excepted; data several of them share counts once;
 * - image_stage_total: bytes of data staged for an import (OpenStack's stage call), or being staged;
 * - image_count_uploading: images receiving data at once (saving, staged awaiting import, importing).
 */
export const QUOTA_RESOURCES = [
  "image_count_total",
  "image_size_total",
  "image_stage_total",
  "image_count_uploading",
] as const;

export type QuotaResource = (typeof QUOTA_RESOURCES)[number];

/** Limits in the core's units (bytes for the two sizes, which Glance's wire and Keystone give in MiB); absent: no limit. */
export type QuotaLimits = Partial<Record<QuotaResource, number>>;

/** What a project uses, in the same units, reserved bytes of running uploads and imports included. */
export type QuotaUsage = Record<QuotaResource, number>;

export const MIB = 1024 * 1024;

export const isQuotaResource = (name: string): name is QuotaResource =>
  (QUOTA_RESOURCES as readonly string[]).includes(name);

export const isByteResource = (resource: QuotaResource): boolean =>
  resource === "image_size_total" || resource === "image_stage_total";

/** A byte count as people read quotas: whole MiB when it is whole, else with two decimals. */
export function quotaAmount(resource: QuotaResource, amount: number): string {
  if (!isByteResource(resource)) return String(amount);
  const mib = amount / MIB;
  return `${Number.isInteger(mib) ? mib : mib.toFixed(2)} MiB`;
}

/** The refusal of a request that would take a project over one of its limits. */
export function quotaExceeded(
  projectId: string,
  resource: QuotaResource,
  limit: number,
  usage: number,
  requested: number,
): VitrineError {
  const amount = (n: number) => quotaAmount(resource, n);
  const message =
    `Quota exceeded for ${resource} of project ${projectId}: the limit is ${amount(limit)}, ` +
    `${amount(usage)} is in use and this request needs ${amount(requested)} more`;
  return new VitrineError("RESOURCE_EXHAUSTED", message).because("QUOTA_EXCEEDED", {
    resource,
    projectId,
    limit: String(limit),
    usage: String(usage),
    requested: String(requested),
  });
}

/**
 * The quota a QUOTA_EXCEEDED error (or an operation's error) names, as google.rpc.QuotaFailure's
 * violation describes one: the subject is the quota and the project it is counted for.
 */
export function quotaViolationOf(error: {
  reason?: ErrorReason | null;
  args?: ErrorArgs;
  message: string;
}): { subject: string; description: string } | null {
  if (error.reason !== "QUOTA_EXCEEDED" || !error.args) return null;
  return { subject: `${error.args.resource}:${error.args.projectId}`, description: error.message };
}
