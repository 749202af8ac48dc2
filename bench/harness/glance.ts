import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { freePort, waitForHttp } from "../../test/helpers/net.js";

/**
 * OpenStack Glance from Debian's `glance-api`, standalone as the issue asks: SQLite, the file
 * store, no Keystone (the default paste pipeline's unauthenticated context), 2 workers, on its
 * own loopback port. Started and stopped by the harness.
 */
export interface GlancePeer {
  url: string;
  pid: number;
  /** Inserts `count` active images straight into Glance's database (as the Vitrine seed does). */
  seed(count: number, owner: string): void;
  stop(): Promise<void>;
}

export async function startGlance(dir: string): Promise<GlancePeer> {
  fs.mkdirSync(path.join(dir, "images"), { recursive: true });
  const port = await freePort();
  const db = path.join(dir, "glance.db");
  const conf = path.join(dir, "glance-api.conf");
  fs.writeFileSync(
    conf,
    `[DEFAULT]
bind_host = 127.0.0.1
bind_port = ${port}
workers = 2
log_file = ${path.join(dir, "glance-api.log")}
[database]
connection = sqlite:///${db}
[paste_deploy]
config_file = /etc/glance/glance-api-paste.ini
[glance_store]
stores = file
default_store = file
filesystem_store_datadir = ${path.join(dir, "images")}/
`,
  );
  execFileSync("glance-manage", ["--config-file", conf, "db_sync"], { stdio: "ignore" });
  // Two worker processes share the SQLite file; in the default journal mode a reader blocks writers.
  const wal = new Database(db);
  wal.pragma("journal_mode = WAL");
  wal.close();
  const child: ChildProcess = spawn("glance-api", ["--config-file", conf], {
    stdio: "ignore",
    detached: true,
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(
    `${url}/v2/images?limit=1`,
    child,
    60_000,
    () => `glance-api did not start; see ${path.join(dir, "glance-api.log")}`,
  );
  return {
    url,
    pid: child.pid!,
    seed(count, owner) {
      const d = new Database(db);
      d.pragma("busy_timeout = 10000");
      const insert = d.prepare(`insert into images (id, name, size, status, created_at, updated_at, deleted,
        disk_format, container_format, owner, min_disk, min_ram, protected, virtual_size, visibility, os_hidden)
        values (?, ?, 1000, 'active', ?, ?, 0, 'raw', 'bare', ?, 0, 0, 0, 1000, 'shared', 0)`);
      d.transaction(() => {
        for (let i = 0; i < count; i++) {
          const at = new Date(1_700_000_000_000 + i * 1000).toISOString().replace("T", " ").replace("Z", "");
          insert.run(crypto.randomUUID(), `img-${i}`, at, at, owner);
        }
      })();
      d.close();
    },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        process.kill(-child.pid!, "SIGTERM");
        await exited;
      }
    },
  };
}
