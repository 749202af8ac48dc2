import { sql } from "kysely";
import type { Catalog, CatalogStores } from "../../core/ports/catalog.js";
import { SqlAccessBindingStore } from "./access-binding-store.js";
import type { Db } from "./database.js";
import { SqlImageReadModel } from "./image-read-model.js";
import { SqlImageStore } from "./image-store.js";
import { SqlMemberStore } from "./member-store.js";
import { SqlNodeRegistry } from "./node-registry.js";
import { SqlOperationStore } from "./operation-store.js";
import { SqlSubjectStore } from "./subject-store.js";
import { SqlTokenStore } from "./token-store.js";
import { SqlUploadStore } from "./upload-store.js";

export type SqlDialectName = "sqlite" | "postgres";

/** The stores bound to one query executor: the database itself or one of its transactions. */
function storesOn(db: Db, dialect: SqlDialectName): CatalogStores {
  return {
    images: new SqlImageStore(db, dialect),
    imageViews: new SqlImageReadModel(db),
    operations: new SqlOperationStore(db),
    members: new SqlMemberStore(db),
    bindings: new SqlAccessBindingStore(db),
    subjects: new SqlSubjectStore(db),
    tokens: new SqlTokenStore(db),
    uploads: new SqlUploadStore(db),
  };
}

/**
 * The catalog on a Kysely database. The stores use SQL both SQLite and PostgreSQL speak; where
 * the two must differ (serialising concurrent writers) the store is told which it talks to.
 */
export function sqlCatalog(db: Db, dialect: SqlDialectName): Catalog {
  return {
    ...storesOn(db, dialect),
    nodes: new SqlNodeRegistry(db),
    transaction: (work) => db.transaction().execute((trx) => work(storesOn(trx, dialect))),
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: () => db.destroy(),
  };
}
