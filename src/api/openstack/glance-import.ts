/**
 * Glance's import bookkeeping, kept as image properties (clients poll them): the stores an
 * import is writing to while it runs, and the stores it failed for.
 */
export function importMarkers(storeId: string) {
  return {
    importing: { os_glance_importing_to_stores: storeId },
    done: { os_glance_importing_to_stores: "", os_glance_failed_import: "" },
    failed: { os_glance_importing_to_stores: "", os_glance_failed_import: storeId },
  };
}

export const IMPORT_METHODS = ["glance-direct", "web-download"] as const;
