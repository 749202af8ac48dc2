/**
 * Glance's import bookkeeping, kept as image properties that clients poll: the stores an import
 * or a copy is still writing to, and the stores it failed for (the core keeps them up to date).
 */
export const STORE_MARKERS = {
  importing: "os_glance_importing_to_stores",
  failed: "os_glance_failed_import",
} as const;

/**
 * The import methods offered: copy-image where there is another store to copy to, glance-download
 * where the identity service's catalog names other regions (Keystone mode).
 */
export function importMethods(offer: { stores: number; remoteImports: boolean }): string[] {
  return [
    "glance-direct",
    "web-download",
    ...(offer.stores > 1 ? ["copy-image"] : []),
    ...(offer.remoteImports ? ["glance-download"] : []),
  ];
}
