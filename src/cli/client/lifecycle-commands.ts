import type { Command } from "commander";
import { formatDurationSeconds, parseDurationSeconds } from "../../duration.js";
import { looksLikeResourceId, looksLikeUuid } from "../../core/ids.js";
import { wholeSeconds } from "../../core/lifecycle/lifecycle.js";
import type { Json } from "./api-client.js";
import { UsageError } from "./exit-codes.js";
import { COMPUTE_IMAGES, finish, imageIdOf, listAll, oneImage, withImageRef } from "./image-commands.js";
import { type Column, humanBytes, printList, printValue, tableTime } from "./output.js";
import { type ClientFlags, Session, withClientOptions } from "./session.js";

type RefFlags = ClientFlags & { id?: string; name?: string };

const STATES = ["active", "deprecated", "obsolete"];
const ACTIONS = ["deprecate", "obsolete", "delete"];

/** A time as the API takes it: RFC 3339 given as is, or "in" a duration from now (30d, 12h). */
function timeOf(flag: string, at: string | undefined, within: string | undefined): string | undefined {
  if (at !== undefined && within !== undefined)
    throw new UsageError(`give ${flag}-at or ${flag}-in, not both`);
  if (at !== undefined) {
    if (Number.isNaN(Date.parse(at)) || !/^\d{4}-\d{2}-\d{2}T/.test(at)) {
      throw new UsageError(`--${flag}-at: ${at} is not a time such as 2027-01-31T00:00:00Z`);
    }
    return wholeSeconds(Date.parse(at));
  }
  if (within === undefined) return undefined;
  const seconds = parseDurationSeconds(within);
  if (seconds === null)
    throw new UsageError(`--${flag}-in: ${within} is not a duration such as 30d, 12h or 90s`);
  return wholeSeconds(Date.now() + seconds * 1000);
}

/** A duration flag as the API's Duration ("604800s"). */
function apiDuration(flag: string, raw: string): string {
  const seconds = parseDurationSeconds(raw);
  if (seconds === null) throw new UsageError(`${flag}: ${raw} is not a duration such as 7d, 12h or 0`);
  return `${seconds}s`;
}

/** A folder's bin settings: durations as people write them in a table, as the API does otherwise. */
function printSettings(s: Session, settings: Json): void {
  const human = Object.fromEntries(
    Object.entries(settings).map(([k, v]) => [k, k.endsWith("etention") ? shownDuration(v) : v]),
  );
  printValue(s.format === "table" ? human : settings, s.format);
}

const shownDuration = (d: unknown) => formatDurationSeconds(Number(String(d ?? "0s").replace(/s$/, "")));

const BIN_COLUMNS: Column[] = [
  { heading: "ID", cell: (i) => String(i.id ?? "") },
  { heading: "NAME", cell: (i) => String(i.name ?? "") },
  { heading: "SIZE", cell: (i) => humanBytes(Number(i.size ?? 0)) },
  { heading: "DELETED", cell: (i) => tableTime(i.deletedAt, "minute") },
  { heading: "PURGED AFTER", cell: (i) => tableTime(i.purgeAt, "minute") },
];

const RULE_COLUMNS: Column[] = [
  { heading: "FAMILY", cell: (r) => String(r.family ?? "") },
  { heading: "KEEP", cell: (r) => String(r.keep ?? "") },
  { heading: "ACTION", cell: (r) => String(r.action ?? "").toLowerCase() },
  { heading: "AFTER", cell: (r) => shownDuration(r.after) },
];

/**
 * `vitrine image deprecate`, `vitrine recycle-bin ...` and `vitrine retention ...` (README
 * "Lifecycle"): deprecation with a replacement and a schedule, the bin, retention per family.
 */
export function registerLifecycleCommands(program: Command): void {
  const image = program.commands.find((c) => c.name() === "image");
  if (!image) throw new Error("the image commands are registered first");
  withImageRef(withClientOptions(image.command("deprecate")))
    .description("deprecate an image (or make it obsolete, or active again), now or on a schedule")
    .option("--state <state>", `the state now: ${STATES.join(", ")}`, "deprecated")
    .option("--replacement <image>", "the image to use instead (id or name)")
    .option("--deprecate-at <time>", "become deprecated at this time (RFC 3339)")
    .option("--deprecate-in <duration>", "become deprecated after this long, e.g. 30d")
    .option("--obsolete-at <time>", "become obsolete at this time")
    .option("--obsolete-in <duration>", "become obsolete after this long")
    .option("--delete-at <time>", "be deleted (into the recycle bin) at this time")
    .option("--delete-in <duration>", "be deleted after this long")
    .addHelpText(
      "after",
      `
Deprecated images stay usable but are skipped by get-latest-by-family; obsolete ones refuse new
images made from them and downloads (admins aside). The whole deprecation is replaced each time.

Examples:
  vitrine image deprecate ubuntu-22 --replacement ubuntu-24
  vitrine image deprecate ubuntu-22 --state active --obsolete-in 30d --delete-in 90d
  vitrine image deprecate ubuntu-22 --state active          # clear it`,
    )
    .action(async (ref: string | undefined, flags: RefFlags & Record<string, string | undefined>) => {
      const s = new Session(flags);
      const state = String(flags.state).toLowerCase();
      if (!STATES.includes(state)) throw new UsageError(`--state must be one of ${STATES.join(", ")}`);
      const body: Json = { state: state.toUpperCase() };
      if (flags.replacement) body.replacement = await imageIdOf(s, flags.replacement);
      for (const step of ["deprecate", "obsolete", "delete"]) {
        const at = timeOf(step, flags[`${step}At`], flags[`${step}In`]);
        if (at !== undefined) body[`${step}At`] = at;
      }
      const id = await imageIdOf(s, oneImage(ref, flags));
      const op = await s.client.json("POST", `${COMPUTE_IMAGES}/${encodeURIComponent(id)}:deprecate`, {
        body,
      });
      await finish(s, op, false, "deprecating");
    });

  const bin = program
    .command("recycle-bin")
    .alias("bin")
    .description("deleted images kept for a while: list, restore, purge; the folder's retention")
    .addHelpText(
      "after",
      `
A folder keeps deleted images for its retention (the installation's VITRINE_RECYCLE_BIN_RETENTION
unless an admin set the folder's own; 0 = deleted at once). Images in the bin are deleted for
every API, still count against the size quota, and come back whole with restore.

Examples:
  vitrine recycle-bin list
  vitrine recycle-bin restore ubuntu-22          # or its id / OpenStack UUID
  vitrine recycle-bin purge fhm0example0id000000  # for good, now
  vitrine recycle-bin set-retention 7d          # admins; 'default' follows the installation`,
    );

  withClientOptions(bin.command("list"))
    .description("the folder's deleted images, the most recent first")
    .action(async (flags: ClientFlags) => {
      const s = new Session(flags);
      printList(
        await listAll(s, "/vitrine/v1/recycleBin", "images", { folderId: s.folderId }),
        BIN_COLUMNS,
        s.format,
      );
    });

  const binnedId = async (s: Session, ref: string): Promise<string> => {
    if (looksLikeResourceId(ref) || looksLikeUuid(ref)) return ref;
    const found = (await listAll(s, "/vitrine/v1/recycleBin", "images", { folderId: s.folderId })).filter(
      (i) => i.name === ref,
    );
    if (found.length !== 1) {
      throw new UsageError(
        found.length === 0
          ? `no image named ${ref} in the recycle bin`
          : `${found.length} images named ${ref} are in the bin: name one by its id`,
      );
    }
    return String(found[0]!.id);
  };

  withClientOptions(bin.command("restore"))
    .description("give an image back, with its ids, data and everything attached")
    .argument("<image>", "its id, OpenStack UUID or name")
    .action(async (ref: string, flags: ClientFlags) => {
      const s = new Session(flags);
      const id = await binnedId(s, ref);
      printValue(
        await s.client.json("POST", `/vitrine/v1/recycleBin/${encodeURIComponent(id)}:restore`),
        s.format,
      );
    });

  withClientOptions(bin.command("purge"))
    .description("remove an image from the bin for good, now")
    .argument("<image>", "its id, OpenStack UUID or name")
    .action(async (ref: string, flags: ClientFlags) => {
      const s = new Session(flags);
      const id = await binnedId(s, ref);
      await finish(
        s,
        await s.client.json("DELETE", `/vitrine/v1/recycleBin/${encodeURIComponent(id)}`),
        false,
        "purging",
      );
      if (s.format === "table") process.stderr.write(`purged ${ref}${ref === id ? "" : ` (${id})`}\n`);
    });

  withClientOptions(bin.command("get-retention"))
    .description("how long the folder keeps deleted images")
    .action(async (flags: ClientFlags) => {
      const s = new Session(flags);
      const settings = await s.client.json(
        "GET",
        `/vitrine/v1/folders/${encodeURIComponent(s.folderId)}/recycleBin`,
      );
      printSettings(s, settings);
    });

  withClientOptions(bin.command("set-retention"))
    .description("set the folder's retention (admins): a duration such as 7d, 0 for none, or default")
    .argument("<duration>", "7d, 36h, 0 or default")
    .action(async (raw: string, flags: ClientFlags) => {
      const s = new Session(flags);
      const retention = raw === "default" ? null : apiDuration("retention", raw);
      const path = `/vitrine/v1/folders/${encodeURIComponent(s.folderId)}/recycleBin`;
      printSettings(s, await s.client.json("PATCH", path, { body: { retention } }));
    });

  const retention = program
    .command("retention")
    .description("retention rules per image family: keep the newest N, deprecate/obsolete/delete the rest")
    .addHelpText(
      "after",
      `
Examples:
  vitrine retention set nightly --keep 3 --action delete --after 7d
  vitrine retention list
  vitrine retention delete nightly`,
    );

  withClientOptions(retention.command("list"))
    .description("the folder's rules")
    .action(async (flags: ClientFlags) => {
      const s = new Session(flags);
      const page = await s.client.json(
        "GET",
        `/vitrine/v1/folders/${encodeURIComponent(s.folderId)}/retentionRules`,
      );
      printList((page.rules as Json[] | undefined) ?? [], RULE_COLUMNS, s.format);
    });

  withClientOptions(retention.command("set"))
    .description("set the folder's rule for a family (applied at once, and to every new image of it)")
    .argument("<family>", "the image family")
    .requiredOption("--keep <n>", "how many of the newest images to keep")
    .option("--action <action>", `what happens to the others: ${ACTIONS.join(", ")}`, "deprecate")
    .option("--after <duration>", "how long after a newer image displaced each (e.g. 7d)", "0")
    .action(async (family: string, flags: ClientFlags & { keep: string; action: string; after: string }) => {
      const s = new Session(flags);
      const keep = Number(flags.keep);
      if (!Number.isSafeInteger(keep) || keep < 1)
        throw new UsageError(`--keep must be a positive integer, not ${flags.keep}`);
      const action = flags.action.toLowerCase();
      if (!ACTIONS.includes(action)) throw new UsageError(`--action must be one of ${ACTIONS.join(", ")}`);
      const path = `/vitrine/v1/folders/${encodeURIComponent(s.folderId)}/retentionRules/${encodeURIComponent(family)}`;
      const rule = await s.client.json("PUT", path, {
        body: { keep, action: action.toUpperCase(), after: apiDuration("--after", flags.after) },
      });
      printList([rule], RULE_COLUMNS, s.format);
    });

  withClientOptions(retention.command("delete"))
    .description("remove the folder's rule for a family (dates it already set stay)")
    .argument("<family>", "the image family")
    .action(async (family: string, flags: ClientFlags) => {
      const s = new Session(flags);
      const path = `/vitrine/v1/folders/${encodeURIComponent(s.folderId)}/retentionRules/${encodeURIComponent(family)}`;
      await s.client.json("DELETE", path);
      if (s.format === "table") process.stderr.write(`removed the rule for ${family}\n`);
    });
}
