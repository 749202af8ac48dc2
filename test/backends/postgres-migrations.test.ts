import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { sql } from "kysely";
import { migrationProvider } from "../../src/storage/meta/migrations/index.js";
import { openPostgres } from "../../src/storage/meta/database.js";
import { openPostgresCatalog } from "../../src/storage/meta/open-catalog.js";
import { type PostgresServer, startPostgres } from "../helpers/postgres.js";

/** Several nodes starting at once against one empty PostgreSQL database migrate it once. */
describe("PostgreSQL migrations", () => {
  let pg: PostgresServer;
  before(async () => {
    pg = await startPostgres();
  });
  after(() => pg.stop());

  it("run once when four nodes start at the same time", async () => {
    const url = await pg.createDatabase();
    const catalogs = await Promise.all([1, 2, 3, 4].map(() => openPostgresCatalog(url)));
    const db = openPostgres(url);
    try {
      const rows = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(db);
      const expected = Object.keys(await migrationProvider.getMigrations()).sort();
      assert.deepEqual(
        rows.rows.map((r) => r.name),
        expected,
      );
      await Promise.all(catalogs.map((c) => c.ping()));
    } finally {
      await db.destroy();
      await Promise.all(catalogs.map((c) => c.close()));
    }
  });
});
