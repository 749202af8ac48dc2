import type { Command } from "commander";
import type { Json } from "./api-client.js";
import {
  changeOf,
  finish,
  imageIdOf,
  oneImage,
  registerDelete,
  registerList,
  updateImage,
  withImageRef,
} from "./image-commands.js";
import { type Column, parseLabels, printValue } from "./output.js";
import { type ClientFlags, Session, withClientOptions } from "./session.js";

/** The BareMetal Image API's images (ISO images a server boots its installer from). */
const BAREMETAL_IMAGES = "/baremetal/v1alpha/images";

const COLUMNS: Column[] = [
  { heading: "ID", cell: (i) => String(i.id ?? "") },
  { heading: "NAME", cell: (i) => String(i.name ?? "") },
  { heading: "STATUS", cell: (i) => String(i.status ?? "") },
  { heading: "MD5", cell: (i) => String(i.checksum ?? "") },
];

type RefFlags = ClientFlags & { id?: string; name?: string };

/** `vitrine baremetal image ...`: the BareMetal images, with `yc baremetal image`'s flags. */
export function registerBareMetalCommands(program: Command): void {
  const image = program
    .command("baremetal")
    .description("BareMetal: ISO images for servers")
    .command("image")
    .description("BareMetal images: list, create from a URL, change, delete")
    .addHelpText(
      "after",
      `
Examples:
  vitrine baremetal image create --name debian-13 --uri https://host/debian-13-netinst.iso
  vitrine baremetal image list
  vitrine baremetal image update debian-13 --description "installer"`,
    );

  registerList(image, BAREMETAL_IMAGES, COLUMNS, "list the folder's BareMetal images", 'name="debian-13"');

  withImageRef(withClientOptions(image.command("get")))
    .description("show a BareMetal image")
    .action(async (ref: string | undefined, flags: RefFlags) => {
      const s = new Session(flags);
      const id = await imageIdOf(s, oneImage(ref, flags), BAREMETAL_IMAGES);
      printValue(await s.client.json("GET", `${BAREMETAL_IMAGES}/${encodeURIComponent(id)}`), s.format);
    });

  withClientOptions(image.command("create"))
    .description("import an ISO image from a URL (its MD5 is computed as it arrives)")
    .requiredOption("--name <name>", "the image's name, unique in the folder")
    .requiredOption("--uri <url>", "where the ISO is (http or https)")
    .option("--description <text>", "a description")
    .option("--labels <k=v,...>", "labels")
    .option("--async", "return the operation at once instead of waiting for it")
    .action(
      async (
        flags: ClientFlags & {
          name: string;
          uri: string;
          description?: string;
          labels?: string;
          async?: boolean;
        },
      ) => {
        const s = new Session(flags);
        const body: Json = { folderId: s.folderId, name: flags.name, uri: flags.uri };
        if (flags.description !== undefined) body.description = flags.description;
        if (flags.labels !== undefined) body.labels = parseLabels(flags.labels);
        await finish(s, await s.client.json("POST", BAREMETAL_IMAGES, { body }), flags.async, "importing");
      },
    );

  withImageRef(withClientOptions(image.command("update")))
    .description("change a BareMetal image's name, description or labels")
    .option("--new-name <name>", "a new name")
    .option("--description <text>", "a new description")
    .option("--labels <k=v,...>", 'the labels, replacing all ("" removes them)')
    .option("--async", "return the operation at once")
    .action(
      async (
        ref: string | undefined,
        flags: RefFlags & { newName?: string; description?: string; labels?: string; async?: boolean },
      ) => {
        const s = new Session(flags);
        const body = changeOf(flags);
        const what = "--new-name, --description or --labels";
        await updateImage(s, BAREMETAL_IMAGES, oneImage(ref, flags), body, what, flags.async);
      },
    );

  registerDelete(image, BAREMETAL_IMAGES, "delete one or more BareMetal images");
}
