import { useEffect, useState } from "preact/hooks";
import { type Json, call, followOperation } from "../api.js";
import { bytes, when } from "../format.js";
import { ErrorNote } from "./parts.js";

/** A retention as people read it: "7 days", "12 hours". */
function retentionInWords(seconds: number): string {
  const days = seconds / 86_400;
  if (days >= 1) return `${Math.round(days * 10) / 10} ${days === 1 ? "day" : "days"}`;
  const hours = Math.round((seconds / 3600) * 10) / 10;
  return `${hours} ${hours === 1 ? "hour" : "hours"}`;
}

/**
 * The folder's recycle bin (README "Lifecycle"): deleted images kept for the folder's retention,
 * restored whole or purged for good from here (`/vitrine/v1/recycleBin`).
 */
export function RecycleBin({ folder }: { folder: string }) {
  const [images, setImages] = useState<Json[] | null>(null);
  const [retention, setRetention] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [version, setVersion] = useState(0);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  /** The image whose purge waits for a second click (a purge cannot be undone). */
  const [confirming, setConfirming] = useState<string | null>(null);

  useEffect(() => {
    let stale = false;
    const folderQuery = encodeURIComponent(folder);
    Promise.all([
      call("GET", `/vitrine/v1/recycleBin?folderId=${folderQuery}&pageSize=1000`),
      call("GET", `/vitrine/v1/folders/${folderQuery}/recycleBin`),
    ]).then(
      ([page, settings]) => {
        if (stale) return;
        setImages((page.images as Json[] | undefined) ?? []);
        setRetention(Number(String(settings.retention).replace(/s$/, "")));
        setError(null);
      },
      (err: unknown) => !stale && setError(err),
    );
    return () => {
      stale = true;
    };
  }, [folder, version]);

  const act = async (image: Json, what: "restore" | "purge") => {
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      const id = encodeURIComponent(String(image.id));
      if (what === "restore") {
        await call("POST", `/vitrine/v1/recycleBin/${id}:restore`);
      } else {
        const op = await call("DELETE", `/vitrine/v1/recycleBin/${id}`);
        const ended = await followOperation(String(op.id), () => undefined);
        if (ended.error) throw new Error(String(ended.error.message));
      }
      setDone(`${what === "restore" ? "Restored" : "Purged"} ${String(image.name || image.id)}`);
      setVersion(version + 1);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section>
      <h1 tabIndex={-1}>Recycle bin of {folder}</h1>
      {retention !== null && (
        <p class="total">
          {retention > 0
            ? `Deleted images of ${folder} are kept ${retentionInWords(retention)}, then purged.`
            : `${folder} keeps no deleted images: deleting is final (an admin can set a retention).`}
        </p>
      )}
      {done && (
        <p class="done" role="status">
          {done}
        </p>
      )}
      <ErrorNote error={error} />
      {images === null ? (
        <p class="loading" role="status">
          Loading…
        </p>
      ) : images.length === 0 ? (
        <p>The recycle bin is empty.</p>
      ) : (
        <table class="operations">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Size</th>
              <th scope="col">Deleted</th>
              <th scope="col">Purged after</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {images.map((image) => (
              <tr>
                <td>
                  {String(image.name || "(no name)")} <code>{String(image.id)}</code>
                </td>
                <td>{bytes(Number(image.size))}</td>
                <td>{when(image.deletedAt)}</td>
                <td>{when(image.purgeAt)}</td>
                <td>
                  <button type="button" disabled={busy} onClick={() => void act(image, "restore")}>
                    Restore
                  </button>{" "}
                  {confirming === String(image.id) ? (
                    <>
                      <button
                        type="button"
                        class="danger"
                        disabled={busy}
                        onClick={() => {
                          setConfirming(null);
                          void act(image, "purge");
                        }}
                      >
                        Purge for good
                      </button>{" "}
                      <button type="button" onClick={() => setConfirming(null)}>
                        Keep
                      </button>
                    </>
                  ) : (
                    <button
                      type="button"
                      class="danger"
                      disabled={busy}
                      onClick={() => setConfirming(String(image.id))}
                    >
                      Purge
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
