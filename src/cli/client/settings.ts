import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { UsageError } from "./exit-codes.js";

/** What a profile keeps, by the names `vitrine config set` takes. */
export const SETTING_NAMES = ["endpoint", "token", "folder-id"] as const;
export type SettingName = (typeof SETTING_NAMES)[number];
export type Profile = Partial<Record<SettingName, string>>;

interface ConfigFile {
  current: string;
  profiles: Record<string, Profile>;
}

/** Where a setting comes from when nothing else names it: the service a laptop runs (`vitrine serve`). */
const DEFAULT_ENDPOINT = "http://127.0.0.1:9292";
const ENV: Record<SettingName, string> = {
  endpoint: "VITRINE_ENDPOINT",
  token: "VITRINE_TOKEN",
  "folder-id": "VITRINE_FOLDER_ID",
};

/**
 * The client's profiles, like `yc config`: a JSON file in the user's config directory
 * ($XDG_CONFIG_HOME/vitrine/config.json, else ~/.config/vitrine/config.json), readable by the
 * user only since it holds tokens.
 */
export class Settings {
  readonly file: string;

  constructor(env: NodeJS.ProcessEnv = process.env) {
    const base = env.XDG_CONFIG_HOME || path.join(os.homedir(), ".config");
    this.file = path.join(base, "vitrine", "config.json");
  }

  read(): ConfigFile {
    let text: string;
    try {
      text = fs.readFileSync(this.file, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT")
        return { current: "default", profiles: { default: {} } };
      throw err;
    }
    try {
      const parsed = JSON.parse(text) as ConfigFile;
      if (typeof parsed.current !== "string" || typeof parsed.profiles !== "object")
        throw new Error("bad shape");
      return parsed;
    } catch {
      throw new UsageError(`${this.file} is not a Vitrine client configuration; fix or remove it`);
    }
  }

  /** Written aside and renamed into place with mode 0600: never half-written, never readable by others. */
  write(config: ConfigFile): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
    const aside = `${this.file}.${process.pid}.tmp`;
    fs.writeFileSync(aside, JSON.stringify(config, null, 2) + "\n", { mode: 0o600 });
    fs.renameSync(aside, this.file);
  }

  createProfile(name: string): void {
    const config = this.read();
    if (Object.hasOwn(config.profiles, name)) throw new UsageError(`profile ${name} already exists`);
    config.profiles[name] = {};
    config.current = name;
    this.write(config);
  }

  useProfile(name: string): void {
    const config = this.read();
    if (!Object.hasOwn(config.profiles, name)) throw new UsageError(`no profile ${name}`);
    config.current = name;
    this.write(config);
  }

  deleteProfile(name: string): void {
    const config = this.read();
    if (!Object.hasOwn(config.profiles, name)) throw new UsageError(`no profile ${name}`);
    if (config.current === name) throw new UsageError(`profile ${name} is in use; switch to another first`);
    delete config.profiles[name];
    this.write(config);
  }

  set(profileName: string | undefined, name: SettingName, value: string | null): void {
    const config = this.read();
    const profile = profileName ?? config.current;
    if (!Object.hasOwn(config.profiles, profile)) {
      if (profileName !== undefined) throw new UsageError(`no profile ${profile}`);
      config.profiles[profile] = {};
    }
    const settings = config.profiles[profile]!;
    if (value === null) delete settings[name];
    else settings[name] = value;
    this.write(config);
  }
}

/** The settings a command runs with: flags, then the environment, then the profile. */
export interface Resolved {
  endpoint: string;
  token: string | null;
  folderId: string | null;
  profile: string;
}

export function resolveSettings(
  settings: Settings,
  flags: { endpoint?: string; token?: string; folderId?: string; profile?: string },
  env: NodeJS.ProcessEnv = process.env,
): Resolved {
  const config = settings.read();
  const profileName = flags.profile ?? env.VITRINE_PROFILE ?? config.current;
  if (!Object.hasOwn(config.profiles, profileName) && (flags.profile ?? env.VITRINE_PROFILE)) {
    throw new UsageError(`no profile ${profileName} (vitrine config profile list)`);
  }
  const profile = config.profiles[profileName] ?? {};
  const pick = (name: SettingName, flag: string | undefined) =>
    flag ?? (env[ENV[name]] || undefined) ?? profile[name];
  return {
    endpoint: (pick("endpoint", flags.endpoint) ?? DEFAULT_ENDPOINT).replace(/\/+$/, ""),
    token: pick("token", flags.token) ?? null,
    folderId: pick("folder-id", flags.folderId) ?? null,
    profile: profileName,
  };
}
