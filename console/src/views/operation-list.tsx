import { useEffect, useState } from "preact/hooks";
import { type Json, call, query } from "../api.js";
import { bytes, when } from "../format.js";
import { ErrorNote } from "./parts.js";

/**
 * The folder's operations, newest first (`GET /operations?folderId=`, Vitrine's extension): what
 * runs now, with its import progress and a Cancel button, and what failed, with the reason.
 */
export function OperationList({ folder }: { folder: string }) {
  const [tokens, setTokens] = useState<string[]>([]);
  const [page, setPage] = useState<{ operations: Json[]; next: string | null } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [version, setVersion] = useState(0);
  const token = tokens.at(-1);

  useEffect(() => {
    if (!folder) return;
    let stale = false;
    call("GET", `/operations${query({ folderId: folder, pageSize: 50, pageToken: token })}`).then(
      (body) =>
        !stale &&
        setPage({
          operations: (body.operations as Json[]) ?? [],
          next: (body.nextPageToken as string) || null,
        }),
      (err: unknown) => !stale && setError(err),
    );
    // Running work moves: look again every two seconds while the page is open.
    const timer = setTimeout(() => setVersion(version + 1), 2000);
    return () => {
      stale = true;
      clearTimeout(timer);
    };
  }, [folder, token, version]);

  const cancel = async (id: string) => {
    setError(null);
    try {
      await call("POST", `/operations/${encodeURIComponent(id)}:cancel`);
      setVersion(version + 1);
    } catch (err) {
      setError(err);
    }
  };

  return (
    <section>
      <h1>Operations in {folder || "(no folder)"}</h1>
      <ErrorNote error={error} />
      {page && (
        <table class="operations">
          <thead>
            <tr>
              <th>Operation</th>
              <th>Image</th>
              <th>Started</th>
              <th>State</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {page.operations.map((op) => {
              const progress = op.progress as { bytesDone?: string; bytesTotal?: string } | undefined;
              const imageId = (op.metadata as Json | undefined)?.imageId as string | undefined;
              return (
                <tr>
                  <td>
                    {op.description} <code>{op.id}</code>
                  </td>
                  <td>{imageId && <a href={`#/images/${encodeURIComponent(imageId)}`}>{imageId}</a>}</td>
                  <td>{when(op.createdAt)}</td>
                  <td class={op.error ? "error" : undefined}>
                    {op.error
                      ? `failed: ${op.error.message}`
                      : op.done
                        ? "done"
                        : `running${progress ? ` (${bytes(progress.bytesDone)}${Number(progress.bytesTotal) ? ` of ${bytes(progress.bytesTotal)}` : ""})` : ""}`}
                  </td>
                  <td>
                    {!op.done && (
                      <button type="button" onClick={() => void cancel(op.id)}>
                        Cancel
                      </button>
                    )}
                  </td>
                </tr>
              );
            })}
            {page.operations.length === 0 && (
              <tr>
                <td colSpan={5}>No operations yet.</td>
              </tr>
            )}
          </tbody>
        </table>
      )}
      <nav class="pager" aria-label="Pages">
        <button type="button" disabled={tokens.length === 0} onClick={() => setTokens(tokens.slice(0, -1))}>
          Newer
        </button>
        <button
          type="button"
          disabled={!page?.next}
          onClick={() => page?.next && setTokens([...tokens, page.next])}
        >
          Older
        </button>
      </nav>
    </section>
  );
}
