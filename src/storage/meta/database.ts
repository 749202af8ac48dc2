import fs from "node:fs";
import path from "node:path";
import SqliteDatabase from "better-sqlite3";
import { Kysely, Migrator, PostgresDialect, SqliteDialect } from "kysely";
import pg from "pg";
import { LRUCache } from "lru-cache";
import { internal } from "../../core/errors.js";
import { migrationProvider } from "./migrations/index.js";
import type { Database } from "./schema.js";

export type Db = Kysely<Database>;

/**
 * Opens the embedded SQLite catalog in WAL mode (readers never wait for the writer), readable by
 * the service's user only: it holds every private image's metadata and the token hashes.
 */
export function openSqlite(file: string, { readOnly = false }: { readOnly?: boolean } = {}): Db {
  if (readOnly) {
    // A source to read (copy, doctor without --repair): never created, never changed. A database
    // on read-only media cannot keep WAL's shared-memory file, so it is opened as immutable.
    if (!fs.existsSync(file)) throw new Error(`no database at ${file}`);
    const writable = isWritable(path.dirname(file));
    const sqlite = writable
      ? new SqliteDatabase(file, { readonly: true, fileMustExist: true })
      : new SqliteDatabase(`file:${encodeURI(file)}?immutable=1`, { readonly: true, fileMustExist: true });
    return new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  }
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const sqlite = new SqliteDatabase(file);
  sqlite.pragma("journal_mode = WAL");
  if (file !== ":memory:") {
    for (const f of [file, `${file}-wal`, `${file}-shm`]) if (fs.existsSync(f)) fs.chmodSync(f, 0o600);
  }
  sqlite.pragma("synchronous = NORMAL");
  sqlite.pragma("foreign_keys = ON");
  // Another process (a CLI admin command, a second server) may hold the write lock briefly.
  sqlite.pragma("busy_timeout = 5000");
  return new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
}

/**
 * Kysely prepares every query anew; preparing costs more than running our point queries (a
 * sixth of a GET's CPU in a profile). Kysely emits the same SQL text for the same query shape,
 * so prepared statements are kept per SQL text (bounded; SQLite re-prepares a statement itself
 * when the schema changes).
 */
const ALREADY_ROLLED_BACK = { reader: false, run: () => ({ changes: 0, lastInsertRowid: 0 }) };

function withStatementCache(sqlite: SqliteDatabase.Database): SqliteDatabase.Database {
  const statements = new LRUCache<string, SqliteDatabase.Statement>({ max: 1000 });
  return new Proxy(sqlite, {
    get(target, prop, receiver) {
      if (prop !== "prepare") return Reflect.get(target, prop, receiver);
      return (source: string) => {
        // SQLite ends a transaction by itself when a write fails on a full disk; Kysely then
        // rolls back, which fails ("no transaction is active") and hides the real error.
        if (source === "rollback" && !target.inTransaction) return ALREADY_ROLLED_BACK;
        // Several processes share the file (--workers, the CLI): a transaction that starts as a
        // reader and then writes cannot wait for another writer (SQLite answers "database is
        // locked" at once, to avoid a deadlock). Taking the write lock at BEGIN waits instead
        // (busy_timeout). Catalog transactions are there to write.
        if (source === "begin") source = "begin immediate";
        let stmt = statements.get(source);
        if (!stmt) {
          stmt = target.prepare(source);
          statements.set(source, stmt);
        }
        return stmt;
      };
    },
  });
}

// int8 columns (timestamps in ms, byte sizes) come back as numbers, as from SQLite: every value
// we store fits in a double's 53 bits (4 TiB images, millisecond clocks).
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

/** Opens a PostgreSQL catalog over a connection pool (`url`: postgres://user:pass@host:port/db). */
export function openPostgres(url: string, maxConnections = 10): Db {
  return new Kysely<Database>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: maxConnections }) }),
  });
}

/** Whether a write failed on a unique index (SQLite and PostgreSQL report it their own way). */
export function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY" || code === "23505";
}

/**
 * Brings the schema to the latest migration. Safe when several nodes start at once: Kysely's
 * migrator takes a lock first (an advisory lock on PostgreSQL; SQLite has one writer anyway).
 */
export async function migrateToLatest(db: Db): Promise<void> {
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === "Error");
  if (error || failed) {
    throw internal(`database migration ${failed?.migrationName ?? ""} failed: ${String(error)}`);
  }
}

function isWritable(dir: string): boolean {
  try {
    fs.accessSync(dir, fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}
