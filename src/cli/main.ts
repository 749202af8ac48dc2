import { Command } from "commander";
import { loadConfig } from "../config.js";
import { startService } from "../main.js";

const program = new Command();
program.name("vitrine").description("Vitrine: a self-hostable VM image service").showHelpAfterError();

program
  .command("serve")
  .description("run the API listeners and operation workers")
  .option("--data-dir <dir>", "SQLite database, blobs and bootstrap token (env VITRINE_DATA_DIR)")
  .option("--listen <host:port>", "where the REST APIs listen (env VITRINE_LISTEN)")
  .option("--log-level <level>", "trace, debug, info, warn, error (env VITRINE_LOG_LEVEL)")
  .option("--role <role>", "all, api or worker (env VITRINE_ROLE)")
  .option("--config <file>", "a JSON file of VITRINE_* settings (env VITRINE_CONFIG)")
  .action(
    async (flags: {
      dataDir?: string;
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

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(`vitrine: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
