import path from "node:path";
import { Command, Option } from "commander";
import { ROLES, SubjectAdmin, parseTtl } from "../auth/subjects.js";
import { LOCAL_SUBJECT_TYPES, type LocalSubjectType } from "../core/access-binding.js";
import { openPostgresCatalog, openSqliteCatalog } from "../storage/meta/open-catalog.js";
import { loadConfig } from "../config.js";
import { startService } from "../main.js";

const program = new Command();
program.name("vitrine").description("Vitrine: a self-hostable VM image service").showHelpAfterError();

program
  .command("serve")
  .description("run the API listeners and operation workers")
  .option("--data-dir <dir>", "SQLite database, blobs and bootstrap token (env VITRINE_DATA_DIR)")
  .option(
    "--database <url>",
    "a postgres:// catalog instead of the embedded SQLite (env VITRINE_DATABASE_URL)",
  )
  .option("--listen <host:port>", "where the REST APIs listen (env VITRINE_LISTEN)")
  .option("--log-level <level>", "trace, debug, info, warn, error (env VITRINE_LOG_LEVEL)")
  .option("--role <role>", "all, api or worker (env VITRINE_ROLE)")
  .option("--config <file>", "a JSON file of VITRINE_* settings (env VITRINE_CONFIG)")
  .action(
    async (flags: {
      dataDir?: string;
      database?: string;
      blobStore?: string;
      listen?: string;
      logLevel?: string;
      role?: string;
      config?: string;
    }) => {
      const service = await startService(loadConfig(flags));
      const shutdown = (signal: string) => {
        service.log.info({ signal }, "shutting down");
        service.stop().then(
          () => process.exit(0),
          (err: unknown) => {
            service.log.error({ err }, "shutdown failed");
            process.exit(1);
          },
        );
      };
      process.once("SIGTERM", () => shutdown("SIGTERM"));
      process.once("SIGINT", () => shutdown("SIGINT"));
    },
  );

/** Admin commands work on the data directory's database directly (the server may be running). */
async function withAdmin<T>(
  flags: { dataDir?: string; database?: string },
  fn: (admin: SubjectAdmin) => Promise<T>,
): Promise<T> {
  const config = loadConfig({ dataDir: flags.dataDir, database: flags.database });
  const catalog = config.databaseUrl
    ? await openPostgresCatalog(config.databaseUrl)
    : await openSqliteCatalog(path.join(config.dataDir, "vitrine.sqlite"));
  try {
    return await fn(new SubjectAdmin(catalog));
  } finally {
    await catalog.close();
  }
}

const dataDirOption = ["--data-dir <dir>", "the service's data directory (env VITRINE_DATA_DIR)"] as const;
const databaseOption = ["--database <url>", "a postgres:// catalog (env VITRINE_DATABASE_URL)"] as const;

const subject = program.command("subject").description("manage subjects (user and service accounts)");
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

const token = program.command("token").description("manage API tokens");
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

program
  .command("folder")
  .description("manage folder access bindings")
  .command("bind")
  .description("grant a subject a role on a folder")
  .requiredOption("--folder <id>", "the folder (= OpenStack project)")
  .requiredOption("--subject <id>", "the subject")
  .addOption(new Option("--role <role>", "the role").choices(ROLES).makeOptionMandatory())
  .option(...dataDirOption)
  .option(...databaseOption)
  .action(
    async (flags: { folder: string; subject: string; role: string; dataDir?: string; database?: string }) => {
      await withAdmin(flags, (a) => a.bindFolder(flags.folder, flags.subject, flags.role));
    },
  );

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(`vitrine: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
