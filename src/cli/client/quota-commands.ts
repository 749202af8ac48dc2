import type { Command } from "commander";
import { QUOTA_RESOURCES, isByteResource, isQuotaResource } from "../../core/quotas/quota.js";
import type { Json } from "./api-client.js";
import { UsageError } from "./exit-codes.js";
import { type Column, humanBytes, parseBytes, printList, printValue } from "./output.js";
import { type ClientFlags, Session, withClientOptions } from "./session.js";

/** A limit or usage as people read it: sizes (bytes, as the API counts them) in units, counts as they are. */
function shown(resource: string, value: unknown): string {
  if (value === undefined) return "no limit";
  return isQuotaResource(resource) && isByteResource(resource) ? humanBytes(Number(value)) : String(value);
}

/** A project's quotas as rows: one per quota, its usage against its limit. */
function quotaRows(quota: Json): Json[] {
  const quotas = (quota.quotas ?? {}) as Record<string, { limit?: string; usage: string }>;
  return QUOTA_RESOURCES.map((resource) => {
    const { limit, usage } = quotas[resource] ?? { usage: "0" };
    const used =
      limit === undefined || Number(limit) === 0
        ? ""
        : `${Math.round((Number(usage) / Number(limit)) * 100)}%`;
    return { project: quota.projectId, resource, usage, limit, used };
  });
}

const QUOTA_COLUMNS: Column[] = [
  { heading: "QUOTA", cell: (r) => String(r.resource) },
  // The defaults' rows have no usage of their own.
  { heading: "USAGE", cell: (r) => (r.usage === undefined ? "" : shown(String(r.resource), r.usage)) },
  { heading: "LIMIT", cell: (r) => shown(String(r.resource), r.limit) },
  { heading: "USED", cell: (r) => String(r.used) },
];
const LIST_COLUMNS: Column[] = [{ heading: "PROJECT", cell: (r) => String(r.project) }, ...QUOTA_COLUMNS];

/**
 * "image_size_total=100G image_count_total=50 image_stage_total=none": sizes as people write them
 * (binary units, or bytes), counts as whole numbers, `none` to remove a limit.
 */
export function parseLimits(assignments: string[]): Record<string, string | null> {
  if (assignments.length === 0)
    throw new UsageError("name at least one limit: QUOTA=VALUE, e.g. image_size_total=100G");
  const limits: Record<string, string | null> = {};
  for (const assignment of assignments) {
    const [resource, value] = assignment.split("=", 2) as [string, string | undefined];
    if (!isQuotaResource(resource) || value === undefined || value === "") {
      throw new UsageError(
        `${assignment}: expected QUOTA=VALUE with QUOTA one of ${QUOTA_RESOURCES.join(", ")}`,
      );
    }
    if (value === "none") limits[resource] = null;
    else if (isByteResource(resource)) limits[resource] = String(parseBytes(value, resource));
    else if (/^\d+$/.test(value)) limits[resource] = value;
    else throw new UsageError(`${resource}: ${value} is not a whole number (or none)`);
  }
  return limits;
}

/** `vitrine quota ...`: a project's limits and usage; the admin sets them. */
export function registerQuotaCommands(program: Command): void {
  const quota = program
    .command("quota")
    .description("per-project quotas: usage against limits; admins set them")
    .addHelpText(
      "after",
      `
Quotas (Glance's names): image_count_total, image_size_total, image_stage_total,
image_count_uploading. Sizes take binary units (100G = 100 GiB) or bytes; 'none' removes a limit.

Examples:
  vitrine quota get                                   # the profile's folder
  vitrine quota get team-a                            # another project (admins)
  vitrine quota list                                  # every project with limits or images (admins)
  vitrine quota set team-a image_size_total=500G image_count_total=200
  vitrine quota set --default image_size_total=100G   # for every project without its own
  vitrine quota set team-a image_size_total=none      # back to the default`,
    );

  withClientOptions(quota.command("get"))
    .description("a project's usage and limits (the profile's folder by default)")
    .argument("[project]", "the project (folder) id")
    .action(async (project: string | undefined, flags: ClientFlags) => {
      const s = new Session(flags);
      const answer = await s.client.json(
        "GET",
        `/vitrine/v1/quotas/${encodeURIComponent(project ?? s.folderId)}`,
      );
      if (s.format === "table") printList(quotaRows(answer), QUOTA_COLUMNS, s.format);
      else printValue(answer, s.format);
    });

  withClientOptions(quota.command("list"))
    .description("the defaults and every project with limits or images (admins)")
    .action(async (flags: ClientFlags) => {
      const s = new Session(flags);
      const answer = await s.client.json("GET", "/vitrine/v1/quotas");
      if (s.format !== "table") return printValue(answer, s.format);
      const defaults = (answer.defaults ?? {}) as Record<string, string>;
      const rows = [
        ...QUOTA_RESOURCES.map((resource) => ({
          project: "(default)",
          resource,
          limit: defaults[resource],
          used: "",
        })),
        ...((answer.projects ?? []) as Json[]).flatMap(quotaRows),
      ];
      printList(rows, LIST_COLUMNS, s.format);
      if (answer.truncated) process.stderr.write("more projects hold images than are listed\n");
    });

  withClientOptions(quota.command("set"))
    .description("set a project's limits, or with --default every project's (admins)")
    .argument("[project]", "the project (folder) id")
    .argument("[limits...]", "QUOTA=VALUE ... (VALUE 'none' removes the limit)")
    .option("--default", "set the defaults, for every project without a limit of its own")
    .action(
      async (
        project: string | undefined,
        assignments: string[],
        flags: ClientFlags & { default?: boolean },
      ) => {
        const s = new Session(flags);
        let target = project;
        let limits = assignments;
        // With --default the first word is a limit, not a project.
        if (flags.default && target !== undefined) {
          limits = [target, ...assignments];
          target = undefined;
        }
        if (!flags.default && (target === undefined || target.includes("="))) {
          throw new UsageError("name the project before its limits, or set the defaults with --default");
        }
        const body = { limits: parseLimits(limits) };
        const answer = flags.default
          ? await s.client.json("PATCH", "/vitrine/v1/quotaDefaults", { body })
          : await s.client.json("PATCH", `/vitrine/v1/quotas/${encodeURIComponent(target!)}`, { body });
        if (s.format === "table" && !flags.default) printList(quotaRows(answer), QUOTA_COLUMNS, s.format);
        else printValue(answer, s.format);
      },
    );
}
