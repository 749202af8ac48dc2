import type { Command } from "commander";
import type { Json } from "./api-client.js";
import { type Column, printList, printValue, tableTime } from "./output.js";
import { imageIdOf, listAll, positiveInt } from "./image-commands.js";
import { type ClientFlags, Session, withClientOptions } from "./session.js";
import { waitForOperation } from "./wait.js";

const OPERATION_COLUMNS: Column[] = [
  { heading: "ID", cell: (o) => String(o.id ?? "") },
  { heading: "DESCRIPTION", cell: (o) => String(o.description ?? "") },
  // To the minute: the table fits 80 columns (`operation get` has the exact times).
  { heading: "CREATED", cell: (o) => tableTime(o.createdAt, "minute") },
  { heading: "STATUS", cell: (o) => statusOf(o) },
];

/** done, running, cancelled or failed (`operation get` says why): a cancellation is not a failure. */
function statusOf(o: Json): string {
  if (!o.done) return "running";
  const error = o.error as { code?: number } | undefined;
  if (!error) return "done";
  return error.code === 1 ? "cancelled" : "failed";
}

const path = (id: string) => `/operations/${encodeURIComponent(id)}`;

/** `vitrine operation ...`: follow, list and cancel long-running operations. */
export function registerOperationCommands(program: Command): void {
  const operation = program
    .command("operation")
    .description("long-running operations: get, list, wait, cancel")
    .addHelpText(
      "after",
      `
Examples:
  vitrine operation list                      # the folder's, newest first
  vitrine operation list --image web          # one image's
  vitrine operation wait fd8q1a2b3c4d5e6f7g8h  # follow it, with the import's progress
  vitrine operation cancel fd8q1a2b3c4d5e6f7g8h`,
    );

  withClientOptions(operation.command("get"))
    .description("show an operation")
    .argument("<id>", "the operation's id")
    .action(async (id: string, flags: ClientFlags) => {
      const s = new Session(flags);
      printValue(await s.client.json("GET", path(id)), s.format);
    });

  withClientOptions(operation.command("list"))
    .description("the folder's operations, or with --image one image's, newest first")
    .option("--image <image>", "only this image's (its id, OpenStack UUID or name)")
    .option("--limit <n>", "at most this many", (v) => positiveInt(v, "--limit"))
    .action(async (flags: ClientFlags & { image?: string; limit?: number }) => {
      const s = new Session(flags);
      const ops = flags.image
        ? await listAll(
            s,
            `/compute/v1/images/${encodeURIComponent(await imageIdOf(s, flags.image))}/operations`,
            "operations",
            {},
            flags.limit,
          )
        : await listAll(s, "/operations", "operations", { folderId: s.folderId }, flags.limit);
      printList(ops, OPERATION_COLUMNS, s.format);
    });

  withClientOptions(operation.command("wait"))
    .description("wait until an operation is done, showing an import's progress; exit 3 if it failed")
    .argument("<id>", "the operation's id")
    .action(async (id: string, flags: ClientFlags) => {
      const s = new Session(flags);
      const op = await s.client.json("GET", path(id));
      printValue(await waitForOperation(s.client, op, "importing"), s.format);
    });

  withClientOptions(operation.command("cancel"))
    .description("cancel a running operation")
    .argument("<id>", "the operation's id")
    .action(async (id: string, flags: ClientFlags) => {
      const s = new Session(flags);
      printValue(await s.client.json("POST", `${path(id)}:cancel`), s.format);
    });
}
