import { type Command, Option } from "commander";
import { ApiClient } from "./api-client.js";
import { UsageError } from "./exit-codes.js";
import { FORMATS, type Format, outputFormat } from "./output.js";
import { Settings, resolveSettings } from "./settings.js";

/** The flags every client command takes (each overrides its VITRINE_* variable and the profile). */
export interface ClientFlags {
  endpoint?: string;
  token?: string;
  folderId?: string;
  profile?: string;
  format?: string;
}

export function withClientOptions(command: Command): Command {
  return command
    .option(
      "--endpoint <url>",
      "the service's REST endpoint (env VITRINE_ENDPOINT; default http://127.0.0.1:9292)",
    )
    .option("--token <token>", "the API token (env VITRINE_TOKEN)")
    .option("--folder-id <id>", "the folder (= OpenStack project) (env VITRINE_FOLDER_ID)")
    .option("--profile <name>", "the configuration profile to use (env VITRINE_PROFILE)")
    .addOption(
      new Option("--format <format>", "output format; table on a terminal, json otherwise").choices(FORMATS),
    );
}

/** What a client command works with: the API, the folder it acts in, and how to print. */
export class Session {
  readonly client: ApiClient;
  readonly format: Format;
  private readonly folder: string | null;

  constructor(flags: ClientFlags) {
    const resolved = resolveSettings(new Settings(), flags);
    this.client = new ApiClient(resolved.endpoint, resolved.token);
    this.folder = resolved.folderId;
    this.format = outputFormat(flags.format);
  }

  get folderId(): string {
    if (!this.folder) {
      throw new UsageError(
        "no folder: pass --folder-id, set VITRINE_FOLDER_ID or run `vitrine config set folder-id ID`",
      );
    }
    return this.folder;
  }
}
