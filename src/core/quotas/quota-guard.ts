import type { CoreDeps } from "../core-deps.js";
import { loadImage } from "../images/image-loader.js";
import type { Image } from "../image.js";
import type { Principal } from "../principal.js";
import type { CatalogStores, DataReservation } from "../ports/catalog.js";
import { type QuotaLimits, type QuotaResource, quotaExceeded } from "./quota.js";

/** What a change adds to a project's usage, by resource. */
export type QuotaDelta = Partial<Record<QuotaResource, number>>;

/**
 * Refuses the change when it would take the project over a limit, inside the transaction that
 * makes it: the project is locked first (on every node), so two changes decided at once are
 * decided one after the other and the limit is never passed, whatever runs concurrently.
 * Without a limit on what the change adds, nothing is locked or read.
 */
export async function assertWithinLimits(
  tx: CatalogStores,
  limits: QuotaLimits,
  projectId: string,
  delta: QuotaDelta,
): Promise<void> {
  const checked = (Object.keys(delta) as QuotaResource[]).filter(
    (r) => (delta[r] ?? 0) > 0 && limits[r] !== undefined,
  );
  if (checked.length === 0) return;
  await tx.quotas.lockProject(projectId);
  const usage = await tx.quotas.usage(projectId);
  for (const resource of checked) {
    const limit = limits[resource]!;
    const wanted = delta[resource]!;
    if (usage[resource] + wanted > limit) {
      throw quotaExceeded(projectId, resource, limit, usage[resource], wanted);
    }
  }
}

/** The reservation's resource: staged data counts against the stage total, the rest against the size total. */
const resourceOf = (staged: boolean): QuotaResource => (staged ? "image_stage_total" : "image_size_total");

/**
 * Holds `bytes` for an image's incoming data, replacing what it held (a resumed import reserves
 * again): checked against the limit for what it adds beyond its earlier reservation.
 */
export async function reserveData(
  tx: CatalogStores,
  limits: QuotaLimits,
  reservation: DataReservation,
  extra: QuotaDelta = {},
): Promise<void> {
  const held = await tx.quotas.reservation(reservation.imageId);
  const more = reservation.bytes - (held?.staged === reservation.staged ? held.bytes : 0);
  await assertWithinLimits(tx, limits, reservation.projectId, {
    ...extra,
    [resourceOf(reservation.staged)]: more,
  });
  await tx.quotas.reserve(reservation);
}

/**
 * The limits of the project owning an image the caller names (read before the transaction that
 * decides: see LimitSource). The caller's access is checked again by that transaction.
 */
/** What `image` holds for `bytes` on their way in, streamed by node `nodeId` (staged: for an import). */
export function dataReservation(
  image: Pick<Image, "id" | "folderId">,
  bytes: number,
  staged: boolean,
  nodeId: string,
): DataReservation {
  return { imageId: image.id, projectId: image.folderId, bytes, staged, nodeId, createdAt: Date.now() };
}

export async function limitsOfImage(
  deps: Pick<CoreDeps, "catalog" | "limits">,
  principal: Principal,
  uuid: string,
): Promise<QuotaLimits> {
  const image = await loadImage(deps.catalog, principal, "images.update", { uuid });
  return deps.limits.limitsFor(image.folderId);
}
