import type { Command } from "commander";
import { TARGET_FORMATS } from "../../core/conversion/conversion-policy.js";
import type { Json } from "./api-client.js";
import { UsageError } from "./exit-codes.js";
import { COMPUTE_IMAGES, download, finish, imageIdOf, oneImage, withImageRef } from "./image-commands.js";
import { printValue } from "./output.js";
import { type ClientFlags, Session, withClientOptions } from "./session.js";
import { responseOf, waitForOperation } from "./wait.js";

type ExportFlags = ClientFlags & {
  id?: string;
  name?: string;
  to: string;
  newName?: string;
  description?: string;
  output?: string;
  async?: boolean;
};

/** A policy as people read it: "raw (keeping qcow2, vhd)", or "none". */
const shownPolicy = (p: Json | undefined): string => {
  if (!p) return "(the installation's)";
  const keep = (p.keep as string[] | undefined) ?? [];
  return `${String(p.target)}${keep.length > 0 ? ` (keeping ${keep.join(", ")})` : ""}`;
};

function printSettings(s: Session, settings: Json): void {
  if (s.format !== "table") return printValue(settings, s.format);
  printValue(
    {
      folderId: settings.folderId,
      conversion: shownPolicy(settings.conversion as Json),
      folderConversion: shownPolicy(settings.folderConversion as Json | undefined),
      installationConversion: shownPolicy(settings.installationConversion as Json),
    },
    s.format,
  );
}

/**
 * `vitrine image export` and `vitrine conversion get|set` (README "Conversion and export"): a
 * copy of an image in another format, as an image or a file; a folder's conversion policy.
 */
export function registerConversionCommands(program: Command): void {
  const image = program.commands.find((c) => c.name() === "image");
  if (!image) throw new Error("the image commands are registered first");
  withImageRef(withClientOptions(image.command("export")))
    .description("copy an image into another format (qcow2, vmdk, vhd, vhdx, raw): a new image, or a file")
    .requiredOption("--to <format>", `the copy's format: ${TARGET_FORMATS.join(", ")}`)
    .option("--new-name <name>", "the new image's name")
    .option("--description <text>", "the new image's description")
    .option("--output <file>", "download the copy to this file, then delete the copy (- for stdout)")
    .option("--async", "return the operation at once")
    .addHelpText(
      "after",
      `
The service converts with qemu-img (VMDK as streamOptimized, what VMware and the clouds import);
the copy is checked like any upload before it is stored.

Examples:
  vitrine image export ubuntu-24 --to vmdk --new-name ubuntu-24-vmdk
  vitrine image export ubuntu-24 --to vhd --output ubuntu-24.vhd`,
    )
    .action(async (ref: string | undefined, flags: ExportFlags) => {
      const s = new Session(flags);
      const format = flags.to.toLowerCase();
      if (!(TARGET_FORMATS as readonly string[]).includes(format))
        throw new UsageError(`--to must be one of ${TARGET_FORMATS.join(", ")}`);
      if (flags.output !== undefined && flags.async)
        throw new UsageError("--output waits for the copy: drop --async");
      const id = await imageIdOf(s, oneImage(ref, flags));
      const body: Json = { format };
      if (flags.newName !== undefined) body.name = flags.newName;
      if (flags.description !== undefined) body.description = flags.description;
      const op = await s.client.json("POST", `${COMPUTE_IMAGES}/${encodeURIComponent(id)}:export`, { body });
      if (flags.output === undefined) return finish(s, op, flags.async, "exporting");
      const copy = String(responseOf(await waitForOperation(s.client, op, "exporting")).id);
      try {
        await download(s, copy, flags.output);
      } finally {
        // The copy was only the way to the file.
        const removed = await s.client.json("DELETE", `${COMPUTE_IMAGES}/${encodeURIComponent(copy)}`, {
          query: { skipRecycleBin: "true" },
        });
        await waitForOperation(s.client, removed, "removing the copy");
      }
    });

  const conversion = program
    .command("conversion")
    .description("what images arriving in a folder are converted to (admins set it)")
    .addHelpText(
      "after",
      `
Data that arrives (created from a URI, disk or snapshot; uploaded; imported) is converted to the
target format unless it is in one of the formats kept; the original's format, size and checksums
stay in the image's vitrine_original_* properties. A folder follows the installation's
VITRINE_CONVERT_TO / VITRINE_CONVERT_KEEP unless an admin gives it its own.

Examples:
  vitrine conversion get
  vitrine conversion set --target raw --keep iso    # a Ceph-backed cloud boots raw
  vitrine conversion set --target none              # keep everything as it comes
  vitrine conversion set --default                  # follow the installation again`,
    );

  withClientOptions(conversion.command("get"))
    .description("the folder's conversion policy")
    .action(async (flags: ClientFlags) => {
      const s = new Session(flags);
      printSettings(
        s,
        await s.client.json("GET", `/vitrine/v1/folders/${encodeURIComponent(s.folderId)}/conversion`),
      );
    });

  withClientOptions(conversion.command("set"))
    .description("set the folder's conversion policy (admins)")
    .option("--target <format>", `${TARGET_FORMATS.join(", ")} or none`)
    .option("--keep <formats>", "formats left as they are, comma-separated (e.g. iso,qcow2)")
    .option("--default", "follow the installation's policy")
    .action(async (flags: ClientFlags & { target?: string; keep?: string; default?: boolean }) => {
      const s = new Session(flags);
      if (flags.default && (flags.target || flags.keep))
        throw new UsageError("--default takes no --target or --keep");
      if (!flags.default && !flags.target)
        throw new UsageError("name a --target (or none), or give --default");
      const body = flags.default
        ? { conversion: null }
        : {
            conversion: {
              target: flags.target!.toLowerCase(),
              keep: (flags.keep ?? "")
                .split(",")
                .map((f) => f.trim().toLowerCase())
                .filter(Boolean),
            },
          };
      const path = `/vitrine/v1/folders/${encodeURIComponent(s.folderId)}/conversion`;
      printSettings(s, await s.client.json("PATCH", path, { body }));
    });
}
