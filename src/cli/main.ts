import path from "node:path";
import os from "node:os";
import { Command, Option } from "commander";
import { ROLES, SubjectAdmin, parseTtl } from "../auth/subjects.js";
import { LOCAL_SUBJECT_TYPES, type LocalSubjectType } from "../core/access-binding.js";
import { catalogFor } from "../storage/stores-for-config.js";
import { copyInstallation } from "./copy.js";
import { type DoctorReport, runDoctor } from "./doctor.js";
import type { Json } from "./client/api-client.js";
import { humanBytes, outputFormat, printList, printValue, tableTime } from "./client/output.js";
import { registerConfigCommands } from "./client/config-commands.js";
import { EXIT, UsageError, describeFailure } from "./client/exit-codes.js";
import { registerBareMetalCommands } from "./client/baremetal-commands.js";
import { registerImageCommands } from "./client/image-commands.js";
import { registerOperationCommands } from "./client/operation-commands.js";
import { registerQuotaCommands } from "./client/quota-commands.js";
import { registerEventCommands } from "./client/event-commands.js";
import { registerLifecycleCommands } from "./client/lifecycle-commands.js";
import { registerConversionCommands } from "./client/conversion-commands.js";
import { loadConfig } from "../config.js";
import { serve } from "../serve.js";

// Everything this CLI creates (catalog, blobs, tokens, spooled parts) is private to the service's
// user: images may be private, and the catalog holds token hashes.
process.umask(0o077);

const program = new Command();
program.name("vitrine").description("Vitrine: a self-hostable VM image service").showHelpAfterError();
// Usage mistakes exit 2 (commander's own 1 would read as a refusal), help 0. Set before any
// subcommand is added: they inherit it.
program.exitOverride((err) => process.exit(err.exitCode === 0 ? EXIT.ok : EXIT.usage));

program
  .command("serve")
  .description("run the API listeners and operation workers")
  .option("--data-dir <dir>", "SQLite database, blobs and bootstrap token (env VITRINE_DATA_DIR)")
  .option(
    "--database <url>",
    "a postgres:// catalog instead of the embedded SQLite (env VITRINE_DATABASE_URL)",
  )
  .option(
    "--blob-store <url>",
    "image bytes in s3://bucket[/prefix] instead of the data directory (env VITRINE_BLOB_STORE)",
  )
  .option("--listen <host:port>", "where the REST APIs listen (env VITRINE_LISTEN)")
  .option("--workers <n|auto>", "processes sharing the listeners; auto: one per CPU (env VITRINE_WORKERS)")
  .option(
    "--grpc-listen <host:port|off>",
    "where the gRPC services listen, or off (env VITRINE_GRPC_LISTEN; default 127.0.0.1:9293)",
  )
  .option(
    "--metrics-listen <host:port|off>",
    "where Prometheus scrapes /metrics, or off (env VITRINE_METRICS_LISTEN; default 127.0.0.1:9294)",
  )
  .option("--tls-cert <file>", "PEM certificate chain for the gRPC listener (env VITRINE_TLS_CERT)")
  .option("--tls-key <file>", "PEM private key of --tls-cert (env VITRINE_TLS_KEY)")
  .option("--log-level <level>", "trace, debug, info, warn, error (env VITRINE_LOG_LEVEL)")
  .option("--role <role>", "all, api or worker (env VITRINE_ROLE)")
  .option("--config <file>", "a JSON file of VITRINE_* settings (env VITRINE_CONFIG)")
  .action(
    async (flags: {
      dataDir?: string;
      database?: string;
      blobStore?: string;
      listen?: string;
      workers?: string;
      grpcListen?: string;
      metricsListen?: string;
      tlsCert?: string;
      tlsKey?: string;
      logLevel?: string;
      role?: string;
      config?: string;
    }) => {
      await serve(loadConfig(flags));
    },
  );

/** Admin commands work on the data directory's database directly (the server may be running). */
async function withAdmin<T>(
  flags: { dataDir?: string; database?: string },
  fn: (admin: SubjectAdmin) => Promise<T>,
): Promise<T> {
  const config = loadConfig({ dataDir: flags.dataDir, database: flags.database });
  const catalog = await catalogFor(config);
  try {
    return await fn(new SubjectAdmin(catalog));
  } finally {
    await catalog.close();
  }
}

type AdminFlags = { dataDir?: string; database?: string; format?: string };
const formatOption = ["--format <format>", "table on a terminal, json otherwise (or yaml)"] as const;
/** A time for scripts: ISO 8601 in UTC, to the second. */
const when = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
const dataDirOption = ["--data-dir <dir>", "the service's data directory (env VITRINE_DATA_DIR)"] as const;
const databaseOption = ["--database <url>", "a postgres:// catalog (env VITRINE_DATABASE_URL)"] as const;

/** The admin commands' shared help: where they act, with an example of each. */
const ADMIN_EXAMPLES = `
They act on the installation directly (--data-dir, or --database postgres://...), with or
without the service running.

Examples:
  vitrine subject create --name alice --data-dir ./vitrine-data
  vitrine folder bind --folder my-project --subject ID --role editor --data-dir ./vitrine-data
  vitrine token create --subject ID --project my-project --ttl 30d --data-dir ./vitrine-data
  vitrine subject list --data-dir ./vitrine-data`;

const subject = program
  .command("subject")
  .description("manage subjects (user and service accounts)")
  .addHelpText("after", ADMIN_EXAMPLES);
subject
  .command("create")
  .description("create a subject and print its id")
  .requiredOption("--name <name>", "a name for people")
  .addOption(new Option("--type <type>", "account type").choices(LOCAL_SUBJECT_TYPES).default("userAccount"))
  .option(...dataDirOption)
  .option(...databaseOption)
  .action(async (flags: { name: string; type: LocalSubjectType; dataDir?: string; database?: string }) => {
    console.log(await withAdmin(flags, (a) => a.createSubject(flags.name, flags.type)));
  });

subject
  .command("list")
  .description("list the subjects (users and service accounts)")
  .option(...dataDirOption)
  .option(...databaseOption)
  .option(...formatOption)
  .action(async (flags: AdminFlags) => {
    const subjects = await withAdmin(flags, (a) => a.listSubjects());
    printList(
      subjects.map((x) => ({ ...x, createdAt: when(x.createdAt) })),
      [
        { heading: "ID", cell: (x) => String(x.id) },
        { heading: "NAME", cell: (x) => String(x.name) },
        { heading: "TYPE", cell: (x) => String(x.type) },
        { heading: "ADMIN", cell: (x) => (x.isAdmin ? "yes" : "") },
        { heading: "CREATED", cell: (x) => tableTime(x.createdAt) },
      ],
      outputFormat(flags.format),
    );
  });

const token = program.command("token").description("manage API tokens").addHelpText("after", ADMIN_EXAMPLES);
token
  .command("create")
  .description("issue a token for a subject and print it (shown only once)")
  .requiredOption("--subject <id>", "the subject the token acts as")
  .option("--project <folder>", "the project (folder) the token is scoped to")
  .option("--ttl <duration>", "lifetime such as 12h or 30d (default: no expiry)")
  .option(...dataDirOption)
  .option(...databaseOption)
  .action(
    async (flags: {
      subject: string;
      project?: string;
      ttl?: string;
      dataDir?: string;
      database?: string;
    }) => {
      const ttlMs = flags.ttl ? parseTtl(flags.ttl) : null;
      console.log(
        await withAdmin(flags, (a) =>
          a.createToken(flags.subject, { ttlMs, projectId: flags.project ?? null }),
        ),
      );
    },
  );
token
  .command("revoke")
  .description("revoke a token")
  .argument("<token>", "the token to revoke")
  .option(...dataDirOption)
  .option(...databaseOption)
  .action(async (value: string, flags: { dataDir?: string; database?: string }) => {
    await withAdmin(flags, (a) => a.revokeToken(value));
  });

token
  .command("list")
  .description("list issued tokens (never their values): subject, project, expiry, revocation")
  .option("--subject <id>", "only this subject's")
  .option(...dataDirOption)
  .option(...databaseOption)
  .option(...formatOption)
  .action(async (flags: AdminFlags & { subject?: string }) => {
    const tokens = await withAdmin(flags, (a) => a.listTokens(flags.subject));
    printList(
      tokens.map((t) => ({
        ...t,
        createdAt: when(t.createdAt),
        expiresAt: t.expiresAt === null ? null : when(t.expiresAt),
        revokedAt: t.revokedAt === null ? null : when(t.revokedAt),
      })),
      [
        { heading: "ID", cell: (t) => String(t.id) },
        { heading: "SUBJECT", cell: (t) => String(t.subjectId) },
        { heading: "PROJECT", cell: (t) => String(t.projectId ?? "") },
        { heading: "CREATED", cell: (t) => tableTime(t.createdAt) },
        {
          heading: "STATE",
          cell: (t) =>
            t.revokedAt
              ? `revoked ${String(t.revokedAt)}`
              : t.expiresAt
                ? `expires ${String(t.expiresAt)}`
                : "active",
        },
      ],
      outputFormat(flags.format),
    );
  });

const folder = program
  .command("folder")
  .description("manage folder access bindings")
  .addHelpText("after", ADMIN_EXAMPLES);
/** `folder bind` and `folder unbind`: the same three names, the binding made or taken away. */
for (const [name, description, change] of [
  ["bind", "grant a subject a role on a folder", "bindFolder"],
  ["unbind", "take a subject's role on a folder away", "unbindFolder"],
] as const) {
  folder
    .command(name)
    .description(description)
    .requiredOption("--folder <id>", "the folder (= OpenStack project)")
    .requiredOption("--subject <id>", "the subject")
    .addOption(new Option("--role <role>", "the role").choices(ROLES).makeOptionMandatory())
    .option(...dataDirOption)
    .option(...databaseOption)
    .action(
      async (flags: {
        folder: string;
        subject: string;
        role: string;
        dataDir?: string;
        database?: string;
      }) => {
        await withAdmin(flags, (a) => a[change](flags.folder, flags.subject, flags.role));
      },
    );
}
folder
  .command("list-bindings")
  .description("who holds which role on a folder (--folder), or where a subject holds roles (--subject)")
  .option("--folder <id>", "the folder")
  .option("--subject <id>", "the subject")
  .option(...dataDirOption)
  .option(...databaseOption)
  .option(...formatOption)
  .action(async (flags: AdminFlags & { folder?: string; subject?: string }) => {
    if (!flags.folder === !flags.subject) throw new UsageError("name --folder or --subject (one of them)");
    const bindings = await withAdmin(flags, (a) =>
      a.folderBindings({ folderId: flags.folder, subjectId: flags.subject }),
    );
    printList(
      bindings as unknown as Json[],
      [
        { heading: "FOLDER", cell: (b) => String(b.folderId) },
        { heading: "ROLE", cell: (b) => String(b.role) },
        { heading: "SUBJECT TYPE", cell: (b) => String(b.subjectType) },
        { heading: "SUBJECT ID", cell: (b) => String(b.subjectId) },
      ],
      outputFormat(flags.format),
    );
  });

program
  .command("copy")
  .description(
    "copy a whole installation (catalog and image bytes, verified) to another configuration; " +
      "stop the service first, run it again to finish an interrupted copy",
  )
  .option(...dataDirOption)
  .option(...databaseOption)
  .option("--blob-store <url>", "the source's s3://bucket[/prefix] (env VITRINE_BLOB_STORE)")
  .option(
    "--to-data-dir <dir>",
    "the target's data directory (its SQLite catalog and blobs, unless set below)",
  )
  .option("--to-database <url>", "the target's postgres:// catalog")
  .option("--to-blob-store <url>", "the target's s3://bucket[/prefix] (VITRINE_S3_* settings apply)")
  .action(
    async (flags: {
      dataDir?: string;
      database?: string;
      blobStore?: string;
      toDataDir?: string;
      toDatabase?: string;
      toBlobStore?: string;
    }) => {
      if (!flags.toDataDir && !(flags.toDatabase && flags.toBlobStore)) {
        throw new Error("name the target: --to-data-dir, or --to-database and --to-blob-store");
      }
      const source = loadConfig({
        dataDir: flags.dataDir,
        database: flags.database,
        blobStore: flags.blobStore,
      });
      // The target is what the flags say, not what VITRINE_DATABASE_URL/VITRINE_BLOB_STORE say for the source.
      const { VITRINE_DATABASE_URL: _db, VITRINE_BLOB_STORE: _blobs, ...env } = process.env;
      const target = loadConfig(
        {
          // Without a data directory of its own, the target's S3 parts spool in the temp directory,
          // never in the source's (which copy only reads).
          dataDir: flags.toDataDir ?? path.join(os.tmpdir(), "vitrine-copy"),
          database: flags.toDatabase,
          blobStore: flags.toBlobStore,
        },
        env,
      );
      const summary = await copyInstallation(source, target, process.stderr.isTTY === true);
      const rows = Object.entries(summary.rows)
        .map(([table, n]) => `${table} ${n}`)
        .join(", ");
      console.log(
        `copied ${summary.blobsCopied} blobs (${summary.bytesCopied} bytes), ${summary.blobsPresent} already there; rows written: ${rows}`,
      );
    },
  );

program
  .command("doctor")
  .description(
    "check an installation (running or stopped): every image's bytes present and of its size, " +
      "every blob owned; --verify re-hashes each blob, --repair removes orphans proven safe to remove",
  )
  .option(...dataDirOption)
  .option(...databaseOption)
  .option("--blob-store <url>", "s3://bucket[/prefix] (env VITRINE_BLOB_STORE)")
  .option("--verify", "re-read every blob and compare its SHA-512 and MD5 with the catalog")
  .option("--repair", "remove orphaned blobs (named by nothing, older than an hour)")
  .option("--format <format>", "table on a terminal, json otherwise")
  .action(
    async (flags: {
      dataDir?: string;
      database?: string;
      blobStore?: string;
      verify?: boolean;
      repair?: boolean;
      format?: string;
    }) => {
      const format = outputFormat(flags.format);
      const report = await runDoctor(
        loadConfig({ dataDir: flags.dataDir, database: flags.database, blobStore: flags.blobStore }),
        {
          verify: flags.verify === true,
          repair: flags.repair === true,
          showProgress: process.stderr.isTTY === true,
        },
      );
      if (format === "table") printDoctorReport(report);
      else printValue(report, format);
      // Exit 1 while anything is wrong: scripts and cron jobs alert on it.
      if (report.findings.some((f) => !f.removed)) process.exitCode = EXIT.refused;
    },
  );

registerImageCommands(program);
registerBareMetalCommands(program);
registerOperationCommands(program);
registerQuotaCommands(program);
registerEventCommands(program);
registerLifecycleCommands(program);
registerConversionCommands(program);
registerConfigCommands(program);

function printDoctorReport(report: DoctorReport): void {
  const checks = report.verified ? "sizes and digests" : "presence and sizes";
  console.log(
    `${report.images} images, ${report.blobs} blobs (${humanBytes(report.bytes)}) checked: ${checks}`,
  );
  for (const f of report.findings) {
    const owners = f.images.length > 0 ? `image ${f.images.join(", ")}, ` : "";
    console.log(`${f.kind.toUpperCase().padEnd(13)} ${owners}blob ${f.blob}: ${f.detail}`);
  }
  if (report.findings.length === 0) console.log("no problems found");
}

program.parseAsync(process.argv).catch((err: unknown) => {
  const { line, exitCode } = describeFailure(err);
  console.error(`vitrine: ${line}`);
  process.exit(exitCode);
});
