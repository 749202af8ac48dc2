import { useEffect, useState } from "preact/hooks";
import { ApiError, type Json, call, query } from "../api.js";
import { bytes } from "../format.js";
import { ErrorNote } from "./parts.js";

/**
 * Images and bytes per folder, and what sharing saves: an image made from another costs no copy,
 * so a folder's images name more bytes than it stores (`GET /compute/v1/images:summary`,
 * Vitrine's extension). Admins also see the folders holding the most bytes.
 */
export function Overview({ folder }: { folder: string }) {
  const [mine, setMine] = useState<Json | null>(null);
  const [all, setAll] = useState<Json[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let stale = false;
    if (folder) {
      call("GET", `/compute/v1/images:summary${query({ folderId: folder })}`).then(
        (body) => !stale && setMine((body.folders as Json[])[0] ?? null),
        (err: unknown) => !stale && setError(err),
      );
    }
    call("GET", "/compute/v1/images:summary").then(
      (body) => !stale && setAll(body.folders as Json[]),
      // Everyone but admins is refused the cross-folder view: nothing to show, nothing wrong.
      (err: unknown) => !stale && !(err instanceof ApiError && err.status === 403) && setError(err),
    );
    return () => {
      stale = true;
    };
  }, [folder]);

  return (
    <section>
      <h1 tabIndex={-1}>Overview</h1>
      <ErrorNote error={error} />
      {mine && (
        <dl class="fields summary">
          <dt>Folder</dt>
          <dd>{mine.folderId}</dd>
          <dt>Images</dt>
          <dd>
            {mine.images} ({mine.imagesWithData} with data)
          </dd>
          <dt>Bytes stored</dt>
          <dd class="stored">{bytes(mine.storedBytes)}</dd>
          <dt>Bytes the images name</dt>
          <dd>{bytes(mine.referencedBytes)}</dd>
          <dt>Saved by sharing data</dt>
          <dd class="saved">{bytes(mine.savedBytes)}</dd>
        </dl>
      )}
      {all && all.length > 0 && (
        <>
          <h2>Folders holding the most bytes</h2>
          <table class="folders">
            <thead>
              <tr>
                <th>Folder</th>
                <th>Images</th>
                <th>Stored</th>
                <th>Saved by sharing</th>
              </tr>
            </thead>
            <tbody>
              {all.map((f) => (
                <tr>
                  <td>{f.folderId}</td>
                  <td>{f.images}</td>
                  <td>{bytes(f.storedBytes)}</td>
                  <td>{bytes(f.savedBytes)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
