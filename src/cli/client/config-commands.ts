import { type Command, Argument } from "commander";
import { type Column, outputFormat, printList, printValue } from "./output.js";
import { UsageError } from "./exit-codes.js";
import { SETTING_NAMES, type SettingName, Settings, resolveSettings } from "./settings.js";

/** An endpoint is the service's base URL: http(s), a host, no query. */
function checkEndpoint(value: string): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`endpoint: ${value} is not a URL (e.g. http://127.0.0.1:9292)`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UsageError(`endpoint: ${value} is not an http(s) URL (e.g. https://images.example.com)`);
  }
  if (url.search || url.hash || url.username || url.password) {
    throw new UsageError(`endpoint: ${value} must be the service's base URL, without credentials or a query`);
  }
}

/** A token shown for people: enough to tell two apart, never enough to use. */
const masked = (token: string | undefined | null) =>
  token ? `${token.slice(0, 4)}…(${token.length} chars)` : "";

const PROFILE_COLUMNS: Column[] = [
  { heading: "PROFILE", cell: (p) => `${String(p.name)}${p.current ? " (current)" : ""}` },
  { heading: "ENDPOINT", cell: (p) => String(p.endpoint ?? "") },
  { heading: "FOLDER ID", cell: (p) => String(p["folder-id"] ?? "") },
  { heading: "TOKEN", cell: (p) => String(p.token ?? "") },
];

/** `vitrine config ...`: profiles like `yc config`, in the user's config directory. */
export function registerConfigCommands(program: Command): void {
  const config = program
    .command("config")
    .description("client settings and profiles (like yc config)")
    .addHelpText(
      "after",
      `
Examples:
  vitrine config profile create laptop
  vitrine config set endpoint http://127.0.0.1:9292
  vitrine config set token "$(cat vitrine-data/admin-token)"
  vitrine config set folder-id my-folder
  vitrine config list`,
    );
  const settingArg = new Argument("<name>", "the setting").choices(SETTING_NAMES);

  config
    .command("set")
    .description("set a setting of the current profile (or --profile's)")
    .addArgument(settingArg)
    .argument("<value>", "its value")
    .option("--profile <name>", "another profile than the current one")
    .action((name: SettingName, value: string, flags: { profile?: string }) => {
      if (name === "endpoint") checkEndpoint(value);
      new Settings().set(flags.profile, name, value);
    });

  config
    .command("unset")
    .description("remove a setting from the current profile (or --profile's)")
    .addArgument(settingArg)
    .option("--profile <name>", "another profile than the current one")
    .action((name: SettingName, flags: { profile?: string }) => {
      new Settings().set(flags.profile, name, null);
    });

  config
    .command("list")
    .description("the settings in effect (flags, VITRINE_* variables, then the profile); the token masked")
    .option("--profile <name>", "another profile than the current one")
    .option("--format <format>", "table, json or yaml")
    .action((flags: { profile?: string; format?: string }) => {
      const settings = new Settings();
      const r = resolveSettings(settings, { profile: flags.profile });
      printValue(
        {
          profile: r.profile,
          endpoint: r.endpoint,
          "folder-id": r.folderId,
          token: masked(r.token),
          file: settings.file,
        },
        outputFormat(flags.format),
      );
    });

  const profile = config.command("profile").description("named sets of settings");
  profile
    .command("create")
    .description("create a profile and make it the current one")
    .argument("<name>", "the profile's name")
    .action((name: string) => new Settings().createProfile(name));
  profile
    .command("use")
    .description("make a profile the current one")
    .argument("<name>", "the profile's name")
    .action((name: string) => new Settings().useProfile(name));
  profile
    .command("delete")
    .description("delete a profile (not the current one)")
    .argument("<name>", "the profile's name")
    .action((name: string) => new Settings().deleteProfile(name));
  profile
    .command("list")
    .description("the profiles")
    .option("--format <format>", "table, json or yaml")
    .action((flags: { format?: string }) => {
      const file = new Settings().read();
      const rows = Object.entries(file.profiles).map(([name, p]) => ({
        name,
        current: name === file.current,
        ...p,
        token: p.token ? masked(p.token) : undefined,
      }));
      printList(rows, PROFILE_COLUMNS, outputFormat(flags.format));
    });
}
