import type { Command } from "commander";
import { parseDurationSeconds } from "../../duration.js";
import type { Json } from "./api-client.js";
import { UsageError } from "./exit-codes.js";
import { listAll } from "./image-commands.js";
import { type Column, printList, printValue, tableTime } from "./output.js";
import { type ClientFlags, Session, withClientOptions } from "./session.js";

const WEBHOOKS = "/vitrine/v1/webhooks";

const WEBHOOK_COLUMNS: Column[] = [
  { heading: "ID", cell: (r) => String(r.id) },
  { heading: "URL", cell: (r) => String(r.url) },
  {
    heading: "TYPES",
    cell: (r) => ((r.types as string[]).length === 0 ? "*" : (r.types as string[]).join(",")),
  },
  { heading: "CREATED", cell: (r) => tableTime(r.createdAt, "minute") },
  { heading: "DESCRIPTION", cell: (r) => String(r.description ?? "") },
];

const DELIVERY_COLUMNS: Column[] = [
  { heading: "ID", cell: (r) => String(r.id) },
  { heading: "EVENT", cell: (r) => String(r.eventType).replace(/^dev\.vitrine\./, "") },
  { heading: "STATUS", cell: (r) => String(r.status) },
  { heading: "ATTEMPTS", cell: (r) => String(r.attempts) },
  { heading: "LAST ERROR", cell: (r) => String(r.lastError ?? "") },
  { heading: "CREATED", cell: (r) => tableTime(r.createdAt) },
];

// The table keeps what a person scans for; --format json has every field (project, resource, source).
const AUDIT_COLUMNS: Column[] = [
  { heading: "TIME", cell: (r) => tableTime(r.time) },
  { heading: "DECISION", cell: (r) => String(r.decision) },
  { heading: "STATUS", cell: (r) => String(r.status) },
  { heading: "SUBJECT", cell: (r) => String(r.subject ?? "-") },
  { heading: "ACTION", cell: (r) => String(r.action) },
  { heading: "REASON", cell: (r) => String(r.reason ?? "") },
];

/** `--since 2h` or an RFC 3339 time: the time as the API takes it. */
export function timeArgument(value: string, flag: string, now = Date.now()): string {
  const seconds = parseDurationSeconds(value);
  if (seconds !== null) return new Date(now - seconds * 1000).toISOString();
  if (/^\d{4}-\d\d-\d\dT/.test(value) && Number.isFinite(Date.parse(value)))
    return new Date(value).toISOString();
  throw new UsageError(`${flag}: ${value} is neither a duration ago (30m, 2h, 7d) nor an RFC 3339 time`);
}

/** `vitrine webhook ...` and `vitrine audit ...` (README "Events and audit"). */
export function registerEventCommands(program: Command): void {
  const webhook = program
    .command("webhook")
    .description("the folder's events as signed CloudEvents POSTed to a URL (folder admins)")
    .addHelpText(
      "after",
      `
Each change in the folder is POSTed as a CloudEvent (application/cloudevents+json), signed in the
Vitrine-Signature header: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the secret>.
A delivery that fails is retried with backoff; after the last attempt it is dead (--status dead).

Examples:
  vitrine webhook create https://hooks.example.com/vitrine --types 'image.*'
  vitrine webhook list
  vitrine webhook deliveries WEBHOOK_ID --status dead
  vitrine webhook redeliver WEBHOOK_ID DELIVERY_ID
  vitrine webhook delete WEBHOOK_ID`,
    );

  withClientOptions(webhook.command("create"))
    .description("subscribe a URL to the folder's events; prints the signing secret once")
    .argument("<url>", "where events are POSTed (http or https; the import URL rules apply)")
    .option(
      "--types <patterns>",
      "event types, comma-separated (image.*, image.member.create); all by default",
    )
    .option("--description <text>", "what it is for")
    .option("--secret <secret>", "the signing secret (16 characters at least); made for you by default")
    .action(
      async (url: string, flags: ClientFlags & { types?: string; description?: string; secret?: string }) => {
        const s = new Session(flags);
        const body = {
          folderId: s.folderId,
          url,
          ...(flags.types
            ? {
                types: flags.types
                  .split(",")
                  .map((t) => t.trim())
                  .filter(Boolean),
              }
            : {}),
          ...(flags.description ? { description: flags.description } : {}),
          ...(flags.secret ? { secret: flags.secret } : {}),
        };
        const created = await s.client.json("POST", WEBHOOKS, { body });
        if (s.format !== "table") return printValue(created, s.format);
        printList([created], WEBHOOK_COLUMNS, s.format);
        process.stdout.write(
          `secret: ${String(created.secret)}\n(shown once: keep it to check the Vitrine-Signature header)\n`,
        );
      },
    );

  withClientOptions(webhook.command("list"))
    .description("the folder's webhooks")
    .action(async (flags: ClientFlags) => {
      const s = new Session(flags);
      const answer = await s.client.json("GET", WEBHOOKS, { query: { folderId: s.folderId } });
      const hooks = (answer.webhooks ?? []) as Json[];
      if (s.format === "table") printList(hooks, WEBHOOK_COLUMNS, s.format);
      else printValue(answer, s.format);
    });

  withClientOptions(webhook.command("delete"))
    .description("remove a webhook (its pending deliveries are dropped)")
    .argument("<webhook-id>")
    .action(async (id: string, flags: ClientFlags) => {
      const s = new Session(flags);
      await s.client.json("DELETE", `${WEBHOOKS}/${encodeURIComponent(id)}`);
      if (s.format === "table") process.stdout.write(`deleted webhook ${id}\n`);
      else printValue({}, s.format);
    });

  withClientOptions(webhook.command("deliveries"))
    .description("a webhook's deliveries, newest first (--status dead: the dead-letter view)")
    .argument("<webhook-id>")
    .option("--status <status>", "pending, delivered or dead")
    .option("--limit <n>", "at most this many", "100")
    .action(async (id: string, flags: ClientFlags & { status?: string; limit: string }) => {
      const s = new Session(flags);
      const limit = Number(flags.limit);
      if (!Number.isInteger(limit) || limit < 1)
        throw new UsageError(`--limit: ${flags.limit} is not a positive number`);
      const rows = await listAll(
        s,
        `${WEBHOOKS}/${encodeURIComponent(id)}/deliveries`,
        "deliveries",
        { status: flags.status },
        limit,
      );
      if (s.format === "table") printList(rows, DELIVERY_COLUMNS, s.format);
      else printValue({ deliveries: rows }, s.format);
    });

  withClientOptions(webhook.command("redeliver"))
    .description("send a dead delivery again (its attempts start over)")
    .argument("<webhook-id>")
    .argument("<delivery-id>")
    .action(async (id: string, deliveryId: string, flags: ClientFlags) => {
      const s = new Session(flags);
      await s.client.json(
        "POST",
        `${WEBHOOKS}/${encodeURIComponent(id)}/deliveries/${encodeURIComponent(deliveryId)}/redeliver`,
      );
      if (s.format === "table") process.stdout.write(`delivery ${deliveryId} queued again\n`);
      else printValue({}, s.format);
    });

  const audit = program.command("audit").description("who did what, and who was refused (the service admin)");
  withClientOptions(audit.command("list"))
    .description("audit records in a time window, oldest first")
    .option("--since <when>", "a duration ago (30m, 2h, 7d) or an RFC 3339 time", "1h")
    .option("--until <when>", "a duration ago or an RFC 3339 time (default: now)")
    .option("--subject <id>", "only this subject's")
    .option("--decision <decision>", "allowed, denied or failed")
    .option("--limit <n>", "at most this many", "1000")
    .action(
      async (
        flags: ClientFlags & {
          since: string;
          until?: string;
          subject?: string;
          decision?: string;
          limit: string;
        },
      ) => {
        const s = new Session(flags);
        const limit = Number(flags.limit);
        if (!Number.isInteger(limit) || limit < 1)
          throw new UsageError(`--limit: ${flags.limit} is not a positive number`);
        const rows = await listAll(
          s,
          "/vitrine/v1/audit",
          "records",
          {
            since: timeArgument(flags.since, "--since"),
            until: flags.until === undefined ? undefined : timeArgument(flags.until, "--until"),
            subject: flags.subject,
            decision: flags.decision,
          },
          limit,
        );
        if (s.format === "table") printList(rows, AUDIT_COLUMNS, s.format);
        else printValue({ records: rows }, s.format);
      },
    );
}
