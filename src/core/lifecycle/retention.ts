import { authorize } from "../access.js";
import type { CoreDeps } from "../core-deps.js";
import { invalidArgument, notFound } from "../errors.js";
import type { Image, ImageKind } from "../image.js";
import { saveImage } from "../images/save-image.js";
import type { CatalogStores } from "../ports/catalog.js";
import type { Principal } from "../principal.js";
import {
  RETENTION_ACTIONS,
  type RetentionAction,
  type RetentionRule,
  TARGET_OF,
  checkSeconds,
  dueTimeOf,
  hasReached,
  withDueTime,
} from "./lifecycle.js";
import { scheduleTransitions } from "./schedule.js";

/**
 * Retention rules (README "Lifecycle"): per folder and family, keep the newest `keep` images that
 * hold data and deprecate, obsolete or delete (to the recycle bin) each of the others
 * `afterSeconds` after it dropped out of the newest `keep` — that is, after the image that pushed
 * it out was created. A rule only schedules: each image's due time goes into its deprecation and
 * the transition runs as any scheduled one, so the schedule is visible, durable and can be changed.
 */

/** Families are a Compute field: the rules apply to its images. */
const RULE_KIND: ImageKind = "compute";

export interface RetentionRuleInput {
  keep: number;
  action: RetentionAction;
  afterSeconds: number;
}

export async function listRetentionRules(
  deps: Pick<CoreDeps, "catalog">,
  principal: Principal,
  folderId: string,
): Promise<RetentionRule[]> {
  authorize(principal, "images.list", folderId);
  return deps.catalog.lifecycle.rules(folderId);
}

/** Sets the folder's rule for a family and applies it at once to the family's images. */
export async function putRetentionRule(
  deps: Pick<CoreDeps, "catalog" | "queue">,
  principal: Principal,
  folderId: string,
  family: string,
  input: RetentionRuleInput,
): Promise<RetentionRule> {
  authorize(principal, "images.update", folderId);
  checkRule(family, input);
  const rule = await deps.catalog.transaction(async (tx) => {
    const existing = await tx.lifecycle.rule(folderId, family);
    const next: RetentionRule = { folderId, family, ...input, createdAt: existing?.createdAt ?? Date.now() };
    await tx.lifecycle.putRule(next);
    await enforceRetention(tx, principal, next);
    return next;
  });
  deps.queue.kick();
  return rule;
}

/** Removes a rule; the times it already scheduled stay on the images (change them there). */
export async function deleteRetentionRule(
  deps: Pick<CoreDeps, "catalog">,
  principal: Principal,
  folderId: string,
  family: string,
): Promise<void> {
  authorize(principal, "images.update", folderId);
  if (!(await deps.catalog.lifecycle.deleteRule(folderId, family))) {
    throw notFound(`Folder ${folderId} has no retention rule for family ${family}`);
  }
}

/** After an image of `image`'s family got its data: the family's rule, if any, applies again. */
export async function enforceRetentionFor(
  tx: CatalogStores,
  by: Pick<Principal, "subjectId">,
  image: Image,
): Promise<void> {
  if (image.family === "" || image.kind !== RULE_KIND) return;
  const rule = await tx.lifecycle.rule(image.folderId, image.family);
  if (rule) await enforceRetention(tx, by, rule);
}

/**
 * Gives each image beyond the newest `keep` the due time of the rule's transition (an earlier
 * time already set stays; a state already reached needs none; a protected image is never
 * scheduled for deletion) and schedules it.
 */
async function enforceRetention(
  tx: CatalogStores,
  by: Pick<Principal, "subjectId">,
  rule: RetentionRule,
): Promise<void> {
  const family = await tx.lifecycle.familyWithData(RULE_KIND, rule.folderId, rule.family);
  const target = TARGET_OF[rule.action];
  for (let i = rule.keep; i < family.length; i++) {
    const image = family[i]!;
    if (hasReached(image, target) || (target === "DELETED" && image.protected)) continue;
    const due = family[i - rule.keep]!.createdAt + rule.afterSeconds * 1000;
    const set = dueTimeOf(image, target);
    if (set !== null && set <= due) continue;
    const saved = await saveImage(tx, image, withDueTime(image, target, due));
    await scheduleTransitions(tx, by, saved);
  }
}

function checkRule(family: string, input: RetentionRuleInput): void {
  if (!/^[a-z][-a-z0-9]{1,61}[a-z0-9]$/.test(family)) {
    throw invalidArgument("family: not a family name", [{ field: "family", description: "invalid family" }]);
  }
  if (!Number.isInteger(input.keep) || input.keep < 1 || input.keep > 1000) {
    throw invalidArgument("keep: must be a whole number from 1 to 1000", [
      { field: "keep", description: "out of range" },
    ]);
  }
  if (!RETENTION_ACTIONS.includes(input.action)) {
    throw invalidArgument(`action: must be one of ${RETENTION_ACTIONS.join(", ")}`, [
      { field: "action", description: "unknown action" },
    ]);
  }
  checkSeconds("afterSeconds", input.afterSeconds);
}
