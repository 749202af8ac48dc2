import type { Command } from "commander";
import { type Column, printList, printValue } from "./output.js";
import { imageIdOf, listAll, positiveInt } from "./image-commands.js";
import { type ClientFlags, Session, withClientOptions } from "./session.js";
import { waitForOperation } from "./wait.js";

const OPERATION_COLUMNS: Column[] = [
  { heading: "ID", cell: (o) => String(o.id ?? "") },
  { heading: "DESCRIPTION", cell: (o) => String(o.description ?? "") },
  { heading: "CREATED", cell: (o) => String(o.createdAt ?? "") },
  { heading: "DONE", cell: (o) => (o.done ? "yes" : "no") },
  {
    heading: "RESULT",
    cell: (o) =>
      o.error ? `error: ${String((o.error as { message?: string }).message)}` : o.done ? "ok" : "",
  },
];

const path = (id: string) => `/operations/${encodeURIComponent(id)}`;

/** `vitrine operation ...`: follow, list and cancel long-running operations. */
export function registerOperationCommands(program: Command): void {
  const operation = program
    .command("operation")
    .description("long-running operations: get, list, wait, cancel");

  withClientOptions(operation.command("get"))
    .description("show an operation")
    .argument("<id>", "the operation's id")
    .action(async (id: string, flags: ClientFlags) => {
      const s = new Session(flags);
      printValue(await s.client.json("GET", path(id)), s.format);
    });

  withClientOptions(operation.command("list"))
    .description("an image's operations, newest first")
    .requiredOption("--image <image>", "the image's id, OpenStack UUID or name")
    .option("--limit <n>", "at most this many", (v) => positiveInt(v, "--limit"))
    .action(async (flags: ClientFlags & { image: string; limit?: number }) => {
      const s = new Session(flags);
      const id = await imageIdOf(s, flags.image);
      const ops = await listAll(
        s,
        `/compute/v1/images/${encodeURIComponent(id)}/operations`,
        "operations",
        {},
        flags.limit,
      );
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
