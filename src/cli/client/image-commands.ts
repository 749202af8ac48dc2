import { createHash } from "node:crypto";
import fs from "node:fs";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { type Command, Option } from "commander";
import { looksLikeResourceId, looksLikeUuid } from "../../core/ids.js";
import { SIGNATURE_SAMPLE, signatureFormat } from "../../inspect/sniffer.js";
import { byteProgress } from "../progress.js";
import type { Json } from "./api-client.js";
import { Ambiguous, ApiError, EXIT, UsageError } from "./exit-codes.js";
import { stagingImage } from "./staging.js";
import { type Column, humanBytes, parseBytes, parseLabels, printList, printValue } from "./output.js";
import { type ClientFlags, Session, withClientOptions } from "./session.js";
import { responseOf, waitForOperation } from "./wait.js";

/** yc's columns, and the size: what fits 80 columns with room for names. */
const IMAGE_COLUMNS: Column[] = [
  { heading: "ID", cell: (i) => String(i.id ?? "") },
  { heading: "NAME", cell: (i) => String(i.name ?? "") },
  { heading: "FAMILY", cell: (i) => String(i.family ?? "") },
  { heading: "STATUS", cell: (i) => statusOf(i) },
  { heading: "SIZE", cell: (i) => humanBytes(Number(i.storageSize ?? 0)) },
];

/** The status, with a deprecation beside it as a badge: READY (DEPRECATED). */
function statusOf(image: Json): string {
  const status = String(image.status ?? "QUEUED");
  const state = (image.deprecated as Json | undefined)?.state;
  return state && state !== "ACTIVE" ? `${status} (${String(state)})` : status;
}

/** A deprecated image is named as such on stderr, with what to use instead (scripts read stdout). */
export function warnIfDeprecated(s: Session, image: Json): void {
  const d = image.deprecated as Json | undefined;
  if (!d || d.state === undefined || d.state === "ACTIVE" || s.format !== "table") return;
  const instead = d.replacement ? `; use ${String(d.replacement)} instead` : "";
  process.stderr.write(`warning: image ${String(image.id)} is ${String(d.state).toLowerCase()}${instead}\n`);
}

/** The Compute Image API's images. */
export const COMPUTE_IMAGES = "/compute/v1/images";

/** Byte counts of an image for people, with the exact number beside ("8.00 MiB (8388608)"). */
export function forPeople(image: Json, fields = ["storageSize", "size", "minDiskSize"]): Json {
  const shown: Json = { ...image };
  for (const f of fields) {
    if (shown[f] !== undefined) shown[f] = `${humanBytes(Number(shown[f]))} (${String(shown[f])})`;
  }
  return shown;
}

/** The images a command names: positional ids/names, or yc's --id / --name. */
export function namedImages(positional: string[], flags: { id?: string; name?: string }): string[] {
  const named = [...positional, ...(flags.id ? [flags.id] : []), ...(flags.name ? [flags.name] : [])];
  if (named.length === 0) throw new UsageError("name an image: its id or name, --id or --name");
  return named;
}

/** yc's ways of naming the image a command acts on, beside the positional id or name. */
export function withImageRef(command: Command, many = false): Command {
  return command
    .argument(many ? "[images...]" : "[image]", `the image${many ? "s" : "'s"} id, OpenStack UUID or name`)
    .option("--id <id>", "the image's id")
    .option("--name <name>", "the image's name in the folder");
}

/** One image for commands that act on one. */
export function oneImage(positional: string | undefined, flags: { id?: string; name?: string }): string {
  const named = namedImages(positional === undefined ? [] : [positional], flags);
  if (named.length > 1) throw new UsageError("name one image: an id or name, --id or --name");
  return named[0]!;
}

type RefFlags = ClientFlags & { id?: string; name?: string };

const BINDING_COLUMNS: Column[] = [
  { heading: "ROLE", cell: (b) => String(b.roleId ?? "") },
  { heading: "SUBJECT TYPE", cell: (b) => String((b.subject as Json | undefined)?.type ?? "") },
  { heading: "SUBJECT ID", cell: (b) => String((b.subject as Json | undefined)?.id ?? "") },
];

const OS_TYPES = ["linux", "windows"];

/** `vitrine image ...`: Compute images, with `yc compute image`'s flags and habits. */
export function registerImageCommands(program: Command): void {
  const image = program
    .command("image")
    .description("Compute images: list, create, change, share, download")
    .addHelpText(
      "after",
      `
Examples:
  vitrine image create --name ubuntu-24 --family ubuntu --source-uri https://host/noble.qcow2
  vitrine image create --name mine --file ./disk.qcow2
  vitrine image list --filter 'family="ubuntu"'
  vitrine image get-latest-by-family ubuntu
  vitrine image delete old-1 old-2`,
    );

  registerList(image, COMPUTE_IMAGES, IMAGE_COLUMNS, "list the folder's images", 'name="ubuntu"');

  withImageRef(withClientOptions(image.command("get")))
    .description("show an image")
    .action(async (ref: string | undefined, flags: RefFlags) => {
      const s = new Session(flags);
      printImage(s, await getImage(s, oneImage(ref, flags)));
    });

  withClientOptions(image.command("get-latest-by-family"))
    .alias("get-latest-from-family")
    .description("the newest usable image of a family in the folder (yc's get-latest-from-family)")
    .argument("[family]", "the family")
    .option("--family <family>", "the family")
    .action(async (positional: string | undefined, flags: ClientFlags & { family?: string }) => {
      const s = new Session(flags);
      const family = positional ?? flags.family;
      if (!family) throw new UsageError("name the family: vitrine image get-latest-by-family FAMILY");
      printImage(
        s,
        await s.client.json("GET", `${COMPUTE_IMAGES}:latestByFamily`, {
          query: { folderId: s.folderId, family },
        }),
      );
    });

  withClientOptions(image.command("create"))
    .description("create an image from a URL, another image, a disk, a snapshot or a local file")
    .option("--name <name>", "the image's name, unique in the folder")
    .option("--description <text>", "a description")
    .option("--labels <k=v,...>", "labels")
    .option("--family <family>", "the family (getLatestByFamily finds its newest image)")
    .option("--min-disk-size <size>", "the smallest disk it may go on, e.g. 10G")
    .addOption(new Option("--os-type <type>", "the operating system type").choices(OS_TYPES))
    .option("--source-uri <url>", "import from this URL (qcow2, VMDK or VHD)")
    .option("--source-image <image>", "from another image (id or name): shares its data, no copy")
    .option("--source-disk <id>", "from a disk")
    .option("--source-snapshot <id>", "from a snapshot")
    .option("--file <path>", "upload this local file (qcow2, VMDK, VHD, VHDX, raw ...)")
    .option("--disk-format <format>", "the --file's format, when its signature should not decide")
    .option("--async", "return the operation at once instead of waiting for it")
    .action(async (flags: CreateFlags) => {
      const s = new Session(flags);
      const sources = (["sourceUri", "sourceImage", "sourceDisk", "sourceSnapshot", "file"] as const).filter(
        (k) => flags[k] !== undefined,
      );
      if (sources.length !== 1) {
        throw new UsageError(
          "name exactly one source: --source-uri, --source-image, --source-disk, --source-snapshot or --file",
        );
      }
      const body: Json = {
        folderId: s.folderId,
        ...(flags.name !== undefined ? { name: flags.name } : {}),
        ...(flags.description !== undefined ? { description: flags.description } : {}),
        ...(flags.labels !== undefined ? { labels: parseLabels(flags.labels) } : {}),
        ...(flags.family !== undefined ? { family: flags.family } : {}),
        ...(flags.minDiskSize !== undefined
          ? { minDiskSize: String(parseBytes(flags.minDiskSize, "--min-disk-size")) }
          : {}),
        ...(flags.osType ? { os: { type: flags.osType.toUpperCase() } } : {}),
      };
      if (flags.sourceUri) body.uri = flags.sourceUri;
      if (flags.sourceDisk) body.diskId = flags.sourceDisk;
      if (flags.sourceSnapshot) body.snapshotId = flags.sourceSnapshot;
      if (flags.sourceImage) body.imageId = await imageIdOf(s, flags.sourceImage);
      if (flags.file) {
        await createFromFile(s, flags.file, flags.diskFormat, body, flags.async === true);
        return;
      }
      await finish(s, await s.client.json("POST", "/compute/v1/images", { body }), flags.async, "importing");
    });

  withImageRef(withClientOptions(image.command("update")))
    .description("change an image's name, description, labels or minimum disk size")
    .option("--new-name <name>", "a new name")
    .option("--description <text>", "a new description")
    .option("--labels <k=v,...>", 'the labels, replacing all ("" removes them)')
    .option("--min-disk-size <size>", "a new minimum disk size, e.g. 20G")
    .option("--async", "return the operation at once")
    .action(
      async (
        ref: string | undefined,
        flags: RefFlags & {
          newName?: string;
          description?: string;
          labels?: string;
          minDiskSize?: string;
          async?: boolean;
        },
      ) => {
        const s = new Session(flags);
        const body = changeOf(flags);
        if (flags.minDiskSize !== undefined) {
          body.minDiskSize = String(parseBytes(flags.minDiskSize, "--min-disk-size"));
        }
        const what = "--new-name, --description, --labels or --min-disk-size";
        await updateImage(s, COMPUTE_IMAGES, oneImage(ref, flags), body, what, flags.async);
      },
    );

  registerDelete(image, COMPUTE_IMAGES, "delete one or more images");

  withImageRef(withClientOptions(image.command("download")))
    .description("download an image's data (checked against its MD5 as it arrives)")
    .option("--output <file>", "where to write it; - for stdout (the default when stdout is not a terminal)")
    .action(async (ref: string | undefined, flags: RefFlags & { output?: string }) => {
      const s = new Session(flags);
      await download(s, await imageIdOf(s, oneImage(ref, flags)), flags.output);
    });

  withImageRef(withClientOptions(image.command("share")))
    .description("grant (or with --remove revoke) a role on an image")
    .requiredOption("--subject <type:id>", "userAccount:ID, serviceAccount:ID, system:allUsers ...")
    .option("--role <role>", "viewer, compute.images.user, editor or admin", "compute.images.user")
    .option("--remove", "revoke the binding instead")
    .action(
      async (
        ref: string | undefined,
        flags: RefFlags & { subject: string; role: string; remove?: boolean },
      ) => {
        const s = new Session(flags);
        const at = flags.subject.indexOf(":");
        if (at <= 0 || at === flags.subject.length - 1) {
          throw new UsageError(`--subject: ${flags.subject} is not type:id (e.g. userAccount:ajeabc...)`);
        }
        const id = await imageIdOf(s, oneImage(ref, flags));
        const op = await s.client.json(
          "POST",
          `/compute/v1/images/${encodeURIComponent(id)}:updateAccessBindings`,
          {
            body: {
              accessBindingDeltas: [
                {
                  action: flags.remove ? "REMOVE" : "ADD",
                  accessBinding: {
                    roleId: flags.role,
                    subject: { type: flags.subject.slice(0, at), id: flags.subject.slice(at + 1) },
                  },
                },
              ],
            },
          },
        );
        await finish(s, op, false, "sharing");
      },
    );

  withImageRef(withClientOptions(image.command("list-access-bindings")))
    .description("who holds which role on an image")
    .action(async (ref: string | undefined, flags: RefFlags) => {
      const s = new Session(flags);
      const id = await imageIdOf(s, oneImage(ref, flags));
      const bindings = await listAll(
        s,
        `/compute/v1/images/${encodeURIComponent(id)}:listAccessBindings`,
        "accessBindings",
        {},
      );
      printList(bindings, BINDING_COLUMNS, s.format);
    });
}

interface CreateFlags extends ClientFlags {
  name?: string;
  description?: string;
  labels?: string;
  family?: string;
  minDiskSize?: string;
  osType?: string;
  sourceUri?: string;
  sourceImage?: string;
  sourceDisk?: string;
  sourceSnapshot?: string;
  file?: string;
  diskFormat?: string;
  async?: boolean;
}

/** Every item of a paged list, up to `limit`. */
export async function listAll(
  s: Session,
  path: string,
  field: string,
  query: Record<string, string | undefined>,
  limit = Infinity,
): Promise<Json[]> {
  const items: Json[] = [];
  let pageToken: string | undefined;
  do {
    const page = await s.client.json("GET", path, {
      query: { ...query, pageSize: Math.min(1000, limit - items.length), pageToken },
    });
    items.push(...((page[field] as Json[] | undefined) ?? []));
    pageToken = (page.nextPageToken as string | undefined) || undefined;
  } while (pageToken && items.length < limit);
  return items.slice(0, limit);
}

async function getImage(s: Session, ref: string): Promise<Json> {
  return s.client.json("GET", `${COMPUTE_IMAGES}/${encodeURIComponent(await imageIdOf(s, ref))}`);
}

/**
 * An id (Yandex-style or OpenStack UUID) as given; a name looked up in the folder. A name that
 * more than one image answers to (Glance allows that) is refused with the candidates, as
 * `openstack image delete` does: a command never acts on an image picked at random.
 */
export async function imageIdOf(s: Session, ref: string, images = COMPUTE_IMAGES): Promise<string> {
  if (looksLikeResourceId(ref) || looksLikeUuid(ref)) return ref;
  const found = await listAll(s, images, "images", {
    folderId: s.folderId,
    filter: `name="${ref.replace(/["\\]/g, "\\$&")}"`,
  });
  if (found.length === 0) throw new ApiError(`Image ${ref} not found in folder ${s.folderId}`, 404, null);
  if (found.length > 1) {
    const candidates = found.map((i) => `${String(i.id)} (created ${String(i.createdAt)})`).join(", ");
    throw new Ambiguous(
      `More than one image is named ${ref} in folder ${s.folderId}: ${candidates}; name one by its id`,
    );
  }
  return String(found[0]!.id);
}

/** Prints the operation (--async) or waits for it and prints what it returned. */
export async function finish(s: Session, op: Json, async: boolean | undefined, label: string): Promise<void> {
  if (async) return printValue(op, s.format);
  const done = await waitForOperation(s.client, op, label);
  const result = responseOf(done);
  if (Object.keys(result).length > 0) printImage(s, result);
}

/** An image as people read it (sizes in units) or as scripts do (the API's document). */
function printImage(s: Session, image: Json): void {
  warnIfDeprecated(s, image);
  printValue(s.format === "table" ? forPeople(image) : image, s.format);
}

/** The fields both image services change: `update`'s --new-name, --description and --labels. */
export function changeOf(flags: { newName?: string; description?: string; labels?: string }): Json {
  const body: Json = {};
  if (flags.newName !== undefined) body.name = flags.newName;
  if (flags.description !== undefined) body.description = flags.description;
  if (flags.labels !== undefined) body.labels = parseLabels(flags.labels);
  return body;
}

/** A change of the fields in `body` (its keys are the update mask), followed to its end. */
export async function updateImage(
  s: Session,
  images: string,
  ref: string,
  body: Json,
  what: string,
  async?: boolean,
): Promise<void> {
  const mask = Object.keys(body);
  if (mask.length === 0) throw new UsageError(`nothing to change: ${what}`);
  const id = await imageIdOf(s, ref, images);
  const op = await s.client.json("PATCH", `${images}/${encodeURIComponent(id)}`, {
    body: { ...body, updateMask: mask.join(",") },
  });
  await finish(s, op, async, "updating");
}

/** `list` of an image service: the folder's images, filtered by the API, as a table or documents. */
export function registerList(
  parent: Command,
  images: string,
  columns: Column[],
  description: string,
  filterExample: string,
): void {
  withClientOptions(parent.command("list"))
    .description(description)
    .option("--filter <expr>", `the API's filter, e.g. ${filterExample}`)
    .option("--limit <n>", "at most this many", (v) => positiveInt(v, "--limit"))
    .action(async (flags: ClientFlags & { filter?: string; limit?: number }) => {
      const s = new Session(flags);
      const query = { folderId: s.folderId, filter: flags.filter };
      printList(await listAll(s, images, "images", query, flags.limit), columns, s.format);
    });
}

/** `delete [images...]` of an image service. */
export function registerDelete(parent: Command, images: string, description: string): void {
  const command = withImageRef(withClientOptions(parent.command("delete")), true)
    .description(description)
    .option("--async", "return the operations at once");
  // The recycle bin keeps Compute images (README "Lifecycle").
  if (images === COMPUTE_IMAGES)
    command.option("--skip-recycle-bin", "delete for good, past the folder's recycle bin");
  command.action(async (refs: string[], flags: RefFlags & { async?: boolean; skipRecycleBin?: boolean }) => {
    const query = flags.skipRecycleBin ? { skipRecycleBin: "true" } : undefined;
    await deleteImages(new Session(flags), images, namedImages(refs, flags), flags.async, query);
  });
}

/**
 * Deletes each named image (all are looked up first, so a typo deletes nothing), then waits for
 * every deletion; one line per image on a terminal.
 */
export async function deleteImages(
  s: Session,
  images: string,
  refs: string[],
  async?: boolean,
  query?: Record<string, string>,
): Promise<void> {
  const ids = [];
  for (const ref of refs) ids.push(await imageIdOf(s, ref, images));
  const ops = [];
  for (const id of ids)
    ops.push(await s.client.json("DELETE", `${images}/${encodeURIComponent(id)}`, { query }));
  if (async) return printValue(ops.length === 1 ? ops[0] : ops, s.format);
  for (const [i, op] of ops.entries()) {
    await waitForOperation(s.client, op, "deleting");
    if (s.format === "table")
      process.stderr.write(`deleted ${refs[i]}${refs[i] === ids[i] ? "" : ` (${ids[i]})`}\n`);
  }
}

/**
 * A Compute image from a laptop file, which the Compute API alone cannot do: the bytes go up
 * through the OpenStack upload API into a hidden image (the server inspects and hashes them
 * there), the Compute image is created from it (sharing its data: nothing is copied), and the
 * hidden one is deleted. Whatever fails or is interrupted, the hidden image is removed.
 */
async function createFromFile(
  s: Session,
  file: string,
  declaredFormat: string | undefined,
  body: Json,
  async: boolean,
): Promise<void> {
  let size: number;
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) throw new UsageError(`--file: ${file} is not a file`);
    size = st.size;
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(
      `--file: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }
  const format = declaredFormat ?? formatOfFile(file, size);
  // Ctrl-C while the bytes go up: stop sending, remove the hidden image, one line, exit 130.
  // The handler stays until the cleanup is done, so a second Ctrl-C cannot cut it short.
  const controller = new AbortController();
  const onInterrupt = () => controller.abort();
  process.on("SIGINT", onInterrupt);
  let stagingId: string | null = null;
  const removeStaging = async (): Promise<boolean> => {
    if (stagingId === null) return true;
    // For good: the hidden image shares its data with the new one, a recycle bin has nothing to keep.
    const query = { x_vitrine_skip_recycle_bin: "true" };
    return s.client.json("DELETE", `/v2/images/${stagingId}`, { query }).then(
      () => true,
      (err: unknown) => err instanceof ApiError && err.status === 404,
    );
  };
  try {
    const staging = await s.client.json("POST", "/v2/images", {
      body: stagingImage(String(body.folderId), format),
    });
    stagingId = String(staging.id);
    const bar = byteProgress("uploading", size);
    try {
      // Resumable (tus): a cut or a restarted server resumes from what the server stored.
      await s.client.uploadFile(`/v2/images/${stagingId}/file`, file, size, {
        signal: controller.signal,
        onProgress: (sent) => bar.update(sent),
        onRetry: (why, inMs) =>
          bar.note(
            `${why}; resuming ${inMs === 0 ? "now" : `in ${Math.round(inMs / 1000)}s`} from what the server stored`,
          ),
        onRestart: () =>
          bar.note(
            "the server no longer had this upload (it expired or was cancelled): sending the file again",
          ),
      });
    } finally {
      bar.stop();
    }
    process.off("SIGINT", onInterrupt);
    const op = await s.client.json("POST", "/compute/v1/images", { body: { ...body, imageId: stagingId } });
    const done = async ? op : await waitForOperation(s.client, op, "creating");
    await removeStaging();
    if (async) printValue(done, s.format);
    else printImage(s, responseOf(done));
  } catch (err) {
    const removed = await removeStaging();
    if (controller.signal.aborted) {
      process.stderr.write(
        removed
          ? "upload interrupted; nothing was created\n"
          : `upload interrupted; the hidden upload image ${stagingId} could not be removed (vitrine doctor --repair removes it later)\n`,
      );
      process.exit(EXIT.interrupted);
    }
    throw err;
  } finally {
    process.off("SIGINT", onInterrupt);
  }
}

/** The format a file's signature names (what the upload declares; the server checks it again). */
function formatOfFile(file: string, size: number): string {
  const fd = fs.openSync(file, "r");
  try {
    const head = Buffer.alloc(Math.min(size, SIGNATURE_SAMPLE.head));
    fs.readSync(fd, head, 0, head.length, 0);
    const end = Buffer.alloc(Math.min(size, SIGNATURE_SAMPLE.end));
    fs.readSync(fd, end, 0, end.length, size - end.length);
    return signatureFormat({ head, tail: end, end, total: size });
  } finally {
    fs.closeSync(fd);
  }
}

/** Streams the image's bytes to a file or stdout, checking the MD5 the service sent. */
export async function download(s: Session, id: string, output: string | undefined): Promise<void> {
  const target = output ?? (process.stdout.isTTY ? null : "-");
  if (target === null)
    throw new UsageError("stdout is a terminal: name a file with --output (or - to insist)");
  const { body, length, md5 } = await s.client.getStream(`/v2/images/${encodeURIComponent(id)}/file`);
  const bar = byteProgress("downloading", length);
  const hash = createHash("md5");
  let received = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      received += chunk.length;
      hash.update(chunk);
      bar.update(received);
      done(null, chunk);
    },
  });
  const partial = target === "-" ? null : `${target}.partial`;
  try {
    await pipeline(body, meter, partial ? fs.createWriteStream(partial, { mode: 0o600 }) : process.stdout);
  } catch (err) {
    if (partial) fs.rmSync(partial, { force: true });
    throw err;
  } finally {
    bar.stop();
  }
  const got = hash.digest("hex");
  if (md5 && md5 !== got) {
    if (partial) fs.rmSync(partial, { force: true });
    throw new ApiError(
      `the data received does not match the image's MD5 (${got}, expected ${md5})`,
      200,
      null,
    );
  }
  if (partial) fs.renameSync(partial, target);
  if (target !== "-") process.stderr.write(`${humanBytes(received)} written to ${target} (md5 ${got})\n`);
}

export function positiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0)
    throw new UsageError(`${flag} must be a positive integer, not ${value}`);
  return n;
}
