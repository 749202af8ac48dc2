import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort } from "./net.js";

/**
 * A private PostgreSQL cluster for tests: Debian's server binaries, a temporary data directory, a
 * free loopback port, trust authentication, no fsync (a test cluster need not survive a crash).
 * As root the server runs as the `postgres` user the package creates. Each test gets its own
 * database from `createDatabase()`.
 */
export interface PostgresServer {
  port: number;
  /** A new empty database; its postgres:// URL. */
  createDatabase(): Promise<string>;
  dropDatabase(url: string): void;
  stop(): void;
}

function binDir(): string {
  const root = "/usr/lib/postgresql";
  const versions = fs.existsSync(root) ? fs.readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions)
    if (fs.existsSync(path.join(root, v, "bin", "initdb"))) return path.join(root, v, "bin");
  throw new Error("PostgreSQL server binaries not found: install the Debian package postgresql");
}

export async function startPostgres(): Promise<PostgresServer> {
  const bin = binDir();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vitrine-pg-"));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) execFileSync("chown", ["-R", "postgres:postgres", dir]);
  const run = (cmd: string, args: string[]) => {
    const argv = asRoot
      ? ["runuser", "-u", "postgres", "--", path.join(bin, cmd), ...args]
      : [path.join(bin, cmd), ...args];
    const result = spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8" });
    if (result.status !== 0) throw new Error(`${cmd} failed: ${result.stderr || result.stdout}`);
    return result.stdout;
  };
  const data = path.join(dir, "data");
  run("initdb", ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale=C.UTF-8"]);
  const port = await freePort();
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`;
  run("pg_ctl", ["-D", data, "-o", options, "-l", path.join(dir, "log"), "-w", "start"]);
  let n = 0;
  const psql = (sqlText: string) =>
    execFileSync("psql", [
      "-h",
      "127.0.0.1",
      "-p",
      String(port),
      "-U",
      "postgres",
      "-d",
      "postgres",
      "-v",
      "ON_ERROR_STOP=1",
      "-qc",
      sqlText,
    ]);
  return {
    port,
    createDatabase: async () => {
      const name = `t${process.pid}_${++n}`;
      psql(`create database ${name}`);
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    dropDatabase: (url) => {
      psql(`drop database if exists ${new URL(url).pathname.slice(1)} with (force)`);
    },
    stop: () => {
      try {
        run("pg_ctl", ["-D", data, "-m", "immediate", "stop"]);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
