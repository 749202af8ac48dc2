import { sql } from "kysely";
import type { Catalog, CatalogStores } from "../../core/ports/catalog.js";
import { SqlAccessBindingStore } from "./access-binding-store.js";
import type { Db } from "./database.js";
import { SqlImageReadModel } from "./image-read-model.js";
import { SqlImageStore } from "./image-store.js";
import { SqlMemberStore } from "./member-store.js";
import { SqlOperationStore } from "./operation-store.js";
import { SqlSubjectStore } from "./subject-store.js";
import { SqlTokenStore } from "./token-store.js";

/** The stores bound to one query executor: the database itself or one of its transactions. */
function storesOn(db: Db): CatalogStores {
  return {
    images: new SqlImageStore(db),
    imageViews: new SqlImageReadModel(db),
    operations: new SqlOperationStore(db),
    members: new SqlMemberStore(db),
    bindings: new SqlAccessBindingStore(db),
    subjects: new SqlSubjectStore(db),
    tokens: new SqlTokenStore(db),
  };
}

/** The catalog on a Kysely database (SQLite now; the stores use only SQL Kysely speaks for every dialect). */
export function sqlCatalog(db: Db): Catalog {
  return {
    ...storesOn(db),
    transaction: (work) => db.transaction().execute((trx) => work(storesOn(trx))),
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: () => db.destroy(),
  };
}
