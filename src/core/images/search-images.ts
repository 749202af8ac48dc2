import { can, foldersOf } from "../access.js";
import type { CoreDeps } from "../core-deps.js";
import { VitrineError, invalidArgument } from "../errors.js";
import type { ColumnCondition, SearchScope, SearchSortKey } from "../image-query.js";
import { GONE_STATUSES } from "../image-states.js";
import type { Image } from "../image.js";
import type { MemberStatus } from "../member.js";
import type { Principal } from "../principal.js";
import { loadImage } from "./image-loader.js";

/** A cross-folder list (OpenStack `GET /v2/images`) as the caller may see it. */
export interface SearchImagesInput {
  /** Which visibility to list; null: the default view (own, public and accepted shares). */
  visibility: Image["visibility"] | "all" | null;
  /** Which memberships of shared images count; "all": any. */
  memberStatus: MemberStatus | "all";
  conditions: ColumnCondition[];
  tags: string[];
  properties: { name: string; value: string }[];
  sort: { key: SearchSortKey; dir: "asc" | "desc" }[];
  /** The UUID of the last image of the previous page. */
  marker: string | null;
  limit: number;
  /** Also count the matches, up to COUNT_CAP (Vitrine's extension; a count costs a scan). */
  count?: boolean;
}

/** The most matches a search counts: past it a list says "more than 10,000". */
export const COUNT_CAP = 10_000;

/**
 * The images the caller may see across folders, Glance's way: its projects' own images, public
 * ones and shares it accepted by default; `visibility` and `memberStatus` widen or narrow that.
 * Returns one page and whether another follows.
 */
export async function searchImages(
  deps: Pick<CoreDeps, "catalog">,
  principal: Principal,
  input: SearchImagesInput,
): Promise<{ items: Image[]; more: boolean; total: number | null }> {
  const { catalog } = deps;
  const after = input.marker ? await resolveMarker(deps, principal, input.marker) : undefined;
  const conditions = [...input.conditions];
  const vis = input.visibility;
  if (vis !== null && vis !== "all") conditions.push({ column: "visibility", op: "=", values: [vis] });
  const search = {
    scope: searchScope(principal, vis, input.memberStatus),
    hiddenStatuses: GONE_STATUSES,
    conditions,
    tags: input.tags,
    properties: input.properties,
    sort: input.sort,
    after,
    limit: input.limit,
  };
  const [rows, total] = await Promise.all([
    catalog.imageViews.search(search),
    input.count ? catalog.imageViews.countMatches(search, COUNT_CAP + 1) : Promise.resolve(null),
  ]);
  return { items: rows.slice(0, input.limit), more: rows.length > input.limit, total };
}

function searchScope(
  principal: Principal,
  visibility: SearchImagesInput["visibility"],
  memberStatus: SearchImagesInput["memberStatus"],
): SearchScope {
  if (principal.isAdmin) {
    return { all: true, owners: [], public: true, community: true, sharedWith: null };
  }
  const folders = foldersOf(principal);
  return {
    all: false,
    owners: folders.filter((f) => can(principal, "images.list", f)),
    public: true,
    // Community images are listed only when asked for (Glance keeps them out of the default view).
    community: visibility === "community" || visibility === "all",
    sharedWith: {
      projects: folders,
      statuses: memberStatus === "all" ? ["pending", "accepted", "rejected"] : [memberStatus],
    },
  };
}

async function resolveMarker(
  deps: Pick<CoreDeps, "catalog">,
  principal: Principal,
  marker: string,
): Promise<Image> {
  try {
    return await loadImage(deps.catalog, principal, "images.get", { uuid: marker });
  } catch (err) {
    if (err instanceof VitrineError && err.code === "NOT_FOUND") {
      throw invalidArgument(`Image ${marker} of the marker not found`, [
        { field: "marker", description: "no such image" },
      ]).because("MARKER_NOT_FOUND", { marker });
    }
    throw err;
  }
}
