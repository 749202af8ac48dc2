import { useEffect, useState } from "preact/hooks";
import { type Json, call, query } from "../api.js";
import { bytes, when } from "../format.js";
import { operationResult } from "./image-detail.js";
import { Choice, ErrorNote } from "./parts.js";

/**
 * The folder's operations, newest first (`GET /operations?folderId=`, Vitrine's extension): what
 * runs now, with its import progress and a Cancel button, and what failed, with the reason.
 */
export function OperationList({ folder }: { folder: string }) {
  const [tokens, setTokens] = useState<string[]>([]);
  const [state, setState] = useState("");
  const [kind, setKind] = useState("");
  const [page, setPage] = useState<{ operations: Json[]; next: string | null } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [version, setVersion] = useState(0);
  const token = tokens.at(-1);
  const names = useImageNames(page?.operations ?? []);

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
      <h1 tabIndex={-1}>Operations in {folder || "(no folder)"}</h1>
      <ErrorNote error={error} />
      <div class="filters" role="group" aria-label="Filters">
        <Choice label="State" value={state} onChange={setState} options={STATES} />
        <Choice label="Kind" value={kind} onChange={setKind} options={KINDS} />
      </div>
      {page && (
        <table class="operations">
          <thead>
            <tr>
              <th>Operation</th>
              <th>Image</th>
              <th>By</th>
              <th>Started</th>
              <th>State</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {page.operations
              .filter((op) => matches(op, state, kind))
              .map((op) => {
                const progress = op.progress as { bytesDone?: string; bytesTotal?: string } | undefined;
                const imageId = (op.metadata as Json | undefined)?.imageId as string | undefined;
                return (
                  <tr>
                    <td>
                      {op.description} <code>{op.id}</code>
                    </td>
                    <td>
                      {imageId &&
                        (names[imageId] === null ? (
                          <span class="gone">
                            deleted <code>{imageId}</code>
                          </span>
                        ) : (
                          <a href={`#/images/${encodeURIComponent(imageId)}`}>{names[imageId] || imageId}</a>
                        ))}
                    </td>
                    <td>{op.createdBy}</td>
                    <td>{when(op.createdAt)}</td>
                    <td class={op.error && op.error.code !== 1 ? "error" : undefined}>
                      {op.done || op.scheduledFor
                        ? operationResult(op)
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
                <td colSpan={6}>No operations yet.</td>
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

const STATES: [string, string][] = [
  ["", "any"],
  ["running", "running"],
  ["done", "done"],
  ["failed", "failed"],
  ["cancelled", "cancelled"],
];
const KINDS: [string, string][] = [
  ["", "any"],
  ["Create", "create"],
  ["Update", "update"],
  ["Delete", "delete"],
  ["access", "sharing"],
];

/** Whether an operation passes the state and kind filters. */
function matches(op: Json, state: string, kind: string): boolean {
  const result = operationResult(op);
  if (state && !(result === state || result.startsWith(`${state}:`))) return false;
  if (kind === "access") return /access/i.test(String(op.description));
  return !kind || String(op.description).startsWith(kind);
}

/**
 * The names of the images the operations act on, read once each (Compute or BareMetal, from the
 * metadata's type); null for an image that is gone.
 */
function useImageNames(operations: Json[]): Record<string, string | null> {
  const [names, setNames] = useState<Record<string, string | null>>({});
  useEffect(() => {
    const wanted = new Map<string, string>();
    for (const op of operations) {
      const metadata = op.metadata as Json | undefined;
      const id = metadata?.imageId as string | undefined;
      if (!id || id in names || wanted.has(id)) continue;
      const api = String(metadata?.["@type"]).includes(".baremetal.") ? "/baremetal/v1alpha" : "/compute/v1";
      wanted.set(id, `${api}/images/${encodeURIComponent(id)}`);
    }
    if (wanted.size === 0) return;
    let stale = false;
    void Promise.all(
      [...wanted].map(([id, path]) =>
        call("GET", path).then(
          (image) => [id, String(image.name || id)] as const,
          () => [id, null] as const,
        ),
      ),
    ).then((found) => !stale && setNames((known) => ({ ...known, ...Object.fromEntries(found) })));
    return () => {
      stale = true;
    };
  }, [operations]);
  return names;
}
