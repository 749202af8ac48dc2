import type { Migration, MigrationProvider } from "kysely";
import * as m001 from "./001-initial.js";
import * as m002 from "./002-openstack.js";
import * as m003 from "./003-binding-subject-types.js";
import * as m004 from "./004-nodes.js";
import * as m005 from "./005-uploads.js";
import * as m006 from "./006-operation-request-id.js";
import * as m007 from "./007-metadefs.js";
import * as m008 from "./008-operations-by-kind.js";
import * as m009 from "./009-operation-progress.js";
import * as m010 from "./010-operations-by-folder.js";
import * as m011 from "./011-quotas.js";
import * as m012 from "./012-lifecycle.js";
import * as m013 from "./013-conversion.js";
import * as m014 from "./014-resumable-transfers.js";
import * as m015 from "./015-stores.js";
import * as m016 from "./016-events-and-audit.js";

/** Numbered migrations, in code, run at start-up. Append; never edit a released one. */
export const migrationProvider: MigrationProvider = {
  async getMigrations(): Promise<Record<string, Migration>> {
    return {
      "001-initial": m001,
      "002-openstack": m002,
      "003-binding-subject-types": m003,
      "004-nodes": m004,
      "005-uploads": m005,
      "006-operation-request-id": m006,
      "007-metadefs": m007,
      "008-operations-by-kind": m008,
      "009-operation-progress": m009,
      "010-operations-by-folder": m010,
      "011-quotas": m011,
      "012-lifecycle": m012,
      "013-conversion": m013,
      "014-resumable-transfers": m014,
      "015-stores": m015,
      "016-events-and-audit": m016,
    };
  },
};
