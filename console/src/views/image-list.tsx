import { useEffect, useRef, useState } from "preact/hooks";
import { type Json, call, query } from "../api.js";
import { bytes, when } from "../format.js";
import { Choice, CommittedInput, DeprecationBadge, ErrorNote } from "./parts.js";

const PAGE = 50;
const STATUSES = ["", "queued", "saving", "importing", "uploading", "active", "deactivated", "killed"];
const FORMATS = ["", "qcow2", "raw", "vmdk", "vhd", "vhdx", "vdi", "iso"];
const VISIBILITIES = ["", "private", "shared", "community", "public"];
const KINDS: [string, string][] = [
  ["", "any"],
  ["compute", "Compute"],
  ["baremetal", "BareMetal"],
];
/** A select's options from its values, "" read as "any". */
const anyOf = (values: string[]): [string, string][] => values.map((v) => [v, v || "any"]);
type SortKey = "created_at" | "name" | "size" | "status";
const SORT_KEYS: SortKey[] = ["created_at", "name", "size", "status"];

/** The filters the list keeps in the URL, by their query names (the OpenStack list's own). */
const FILTERS = ["name", "kind", "family", "label", "status", "visibility", "disk_format", "tag"] as const;
type Filter = (typeof FILTERS)[number];

/** How long the name search waits after the last key before it asks the service. */
const TYPING_PAUSE_MS = 300;

/** Which API family an image belongs to, as the OpenStack view tells it. */
export const kindOf = (image: Json): "BareMetal" | "Compute" =>
  image.virtual_env_type === "Ironic" ? "BareMetal" : "Compute";

interface ColumnDef {
  id: string;
  label: string;
  sort?: SortKey;
  cell(image: Json): string;
}

/** The columns one may show; the name (a link) and the selection box are always there. */
const COLUMNS: ColumnDef[] = [
  { id: "kind", label: "Kind", cell: kindOf },
  { id: "status", label: "Status", sort: "status", cell: (i) => String(i.status) },
  { id: "format", label: "Format", cell: (i) => String(i.disk_format ?? "") },
  { id: "size", label: "Size", sort: "size", cell: (i) => bytes(i.size) },
  { id: "virtual", label: "Virtual size", cell: (i) => bytes(i.virtual_size) },
  { id: "visibility", label: "Visibility", cell: (i) => String(i.visibility) },
  { id: "tags", label: "Tags", cell: (i) => ((i.tags as string[]) ?? []).join(", ") },
  { id: "created", label: "Created", sort: "created_at", cell: (i) => when(i.created_at) },
];
const COLUMNS_KEY = "vitrine.columns";

/** The list's state as the URL holds it: filters, sort, and the markers of the pages before this one. */
interface ListState {
  filters: Record<Filter, string>;
  sort: { key: SortKey; dir: "asc" | "desc" };
  markers: string[];
}

function stateOf(params: URLSearchParams): ListState {
  const filters = Object.fromEntries(FILTERS.map((f) => [f, params.get(f) ?? ""])) as Record<Filter, string>;
  const [key, dir] = (params.get("sort") ?? "created_at:desc").split(":");
  return {
    filters,
    sort: {
      key: SORT_KEYS.includes(key as SortKey) ? (key as SortKey) : "created_at",
      dir: dir === "asc" ? "asc" : "desc",
    },
    markers: (params.get("pages") ?? "").split(",").filter(Boolean),
  };
}

/** The URL of a state: bookmarkable, and each change a step the back button undoes. */
function hashOf(state: ListState): string {
  const q = new URLSearchParams();
  for (const f of FILTERS) if (state.filters[f]) q.set(f, state.filters[f]);
  if (state.sort.key !== "created_at" || state.sort.dir !== "desc")
    q.set("sort", `${state.sort.key}:${state.sort.dir}`);
  if (state.markers.length > 0) q.set("pages", state.markers.join(","));
  const s = q.toString();
  return `#/images${s ? `?${s}` : ""}`;
}

/**
 * The folder's images, every kind in one table, through the OpenStack listing: filters and
 * sorting run on the server, and pages follow a marker (keyset), so page 2,000 of 100,000
 * images costs what page 1 does. The filters, sort and page live in the URL.
 */
export function ImageList({ folder, params }: { folder: string; params: URLSearchParams }) {
  const state = stateOf(params);
  const { filters, sort, markers } = state;
  const [page, setPage] = useState<{ images: Json[]; next: string | null } | null>(null);
  const [loading, setLoading] = useState(true);
  const [total, setTotal] = useState<{ count: number; capped: boolean } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [version, setVersion] = useState(0);
  const [shown, setShown] = useState<string[]>(() => {
    const saved = localStorage.getItem(COLUMNS_KEY);
    return saved ? (JSON.parse(saved) as string[]) : COLUMNS.map((c) => c.id);
  });
  const [typed, setTyped] = useState(filters.name);
  const typing = useRef<ReturnType<typeof setTimeout> | null>(null);
  // The back button (or a bookmark) changes the search: the box follows.
  useEffect(() => setTyped(filters.name), [filters.name]);

  const go = (next: ListState, replace = false) => {
    const hash = hashOf(next);
    if (replace) history.replaceState(null, "", hash);
    else location.hash = hash;
    if (replace) dispatchEvent(new HashChangeEvent("hashchange"));
  };
  const marker = markers.at(-1);
  const filterKey = JSON.stringify(filters);

  useEffect(() => {
    let stale = false;
    setError(null);
    setLoading(true);
    const { name, kind, family, label, ...others } = filters;
    call(
      "GET",
      `/v2/images${query({
        owner: folder || undefined,
        limit: PAGE,
        marker,
        sort_key: sort.key,
        sort_dir: sort.dir,
        // Vitrine's extensions of the list: how many match, and names that contain what was typed.
        x_vitrine_count: "true",
        name: name ? `contains:${name}` : undefined,
        // Vitrine's extensions for what only the Yandex dialects know (kind, family, labels).
        x_vitrine_kind: kind || undefined,
        x_vitrine_family: family || undefined,
        x_vitrine_label: label || undefined,
        ...others,
      })}`,
    ).then(
      (body) => {
        if (stale) return;
        const images = (body.images as Json[]) ?? [];
        setPage({ images, next: body.next ? String(images.at(-1)?.id ?? "") : null });
        setTotal(
          typeof body.x_vitrine_total === "number"
            ? { count: body.x_vitrine_total, capped: body.x_vitrine_total_capped === true }
            : null,
        );
        setSelected(new Set());
        setLoading(false);
      },
      (err: unknown) => {
        if (stale) return;
        setError(err);
        setLoading(false);
      },
    );
    return () => {
      stale = true;
    };
  }, [folder, marker, sort.key, sort.dir, filterKey, version]);

  const setFilter = (name: Filter) => (value: string) =>
    go({ ...state, markers: [], filters: { ...filters, [name]: value.trim() } });
  const onTyped = (e: Event) => {
    const value = (e.target as HTMLInputElement).value;
    setTyped(value);
    if (typing.current) clearTimeout(typing.current);
    // Typing replaces the URL (one history step for the search, not one per key).
    typing.current = setTimeout(
      () => go({ ...state, markers: [], filters: { ...filters, name: value.trim() } }, true),
      TYPING_PAUSE_MS,
    );
  };
  const sortBy = (key: SortKey) =>
    go({
      ...state,
      markers: [],
      sort:
        sort.key === key
          ? { key, dir: sort.dir === "asc" ? "desc" : "asc" }
          : { key, dir: key === "name" ? "asc" : "desc" },
    });
  const header = (label: string, key?: SortKey) =>
    key ? (
      <th aria-sort={sort.key === key ? (sort.dir === "asc" ? "ascending" : "descending") : undefined}>
        <button type="button" class="sort" onClick={() => sortBy(key)}>
          {label}
          {sort.key === key ? (sort.dir === "asc" ? " ▲" : " ▼") : ""}
        </button>
      </th>
    ) : (
      <th>{label}</th>
    );
  const toggleColumn = (id: string) => {
    const next = shown.includes(id) ? shown.filter((c) => c !== id) : [...shown, id];
    setShown(next);
    localStorage.setItem(COLUMNS_KEY, JSON.stringify(next));
  };
  const filtered = FILTERS.some((f) => filters[f] !== "");
  const columns = COLUMNS.filter((c) => shown.includes(c.id));
  const images = page?.images ?? [];

  return (
    <section>
      <h1 tabIndex={-1}>Images{folder ? ` in ${folder}` : ""}</h1>
      {total !== null && (
        <p class="total" role="status">
          {total.count}
          {total.capped ? "+" : ""} image{total.count === 1 ? "" : "s"} {filtered ? "match" : "in the folder"}
        </p>
      )}
      <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filters">
        <label>
          Name contains
          <input name="name" type="search" value={typed} onInput={onTyped} />
        </label>
        <Choice label="Kind" value={filters.kind} onChange={setFilter("kind")} options={KINDS} />
        <CommittedInput label="Family" value={filters.family} onCommit={setFilter("family")} />
        <CommittedInput
          label="Label"
          value={filters.label}
          placeholder="key=value"
          onCommit={setFilter("label")}
        />
        <Choice
          label="Status"
          value={filters.status}
          onChange={setFilter("status")}
          options={anyOf(STATUSES)}
        />
        <Choice
          label="Visibility"
          value={filters.visibility}
          onChange={setFilter("visibility")}
          options={anyOf(VISIBILITIES)}
        />
        <Choice
          label="Format"
          value={filters.disk_format}
          onChange={setFilter("disk_format")}
          options={anyOf(FORMATS)}
        />
        <CommittedInput label="Tag" value={filters.tag} onCommit={setFilter("tag")} />
        <details class="columns">
          <summary>Columns</summary>
          {COLUMNS.map((c) => (
            <label>
              <input type="checkbox" checked={shown.includes(c.id)} onChange={() => toggleColumn(c.id)} />
              {c.label} column
            </label>
          ))}
        </details>
      </form>
      <ErrorNote error={error} />
      <BulkActions
        images={images.filter((i) => selected.has(String(i.id)))}
        onDone={() => setVersion(version + 1)}
      />
      {loading && !page && (
        <p class="loading" role="status">
          Loading images…
        </p>
      )}
      {page && images.length === 0 && !filtered && markers.length === 0 && (
        <div class="empty">
          <p>This folder has no images yet.</p>
          <p>
            <a href="#/create">Create the first one</a> from a file, a URL or another image — or from a
            terminal: <code>vitrine image create --file disk.qcow2 --name my-image</code>.
          </p>
        </div>
      )}
      {page && images.length === 0 && filtered && (
        <div class="empty">
          <p>No image matches these filters.</p>
          <button
            type="button"
            onClick={() => go({ ...state, markers: [], filters: stateOf(new URLSearchParams()).filters })}
          >
            Clear the filters
          </button>
        </div>
      )}
      {page && images.length > 0 && (
        <table class={`images${loading ? " loading" : ""}`} aria-busy={loading}>
          <thead>
            <tr>
              <th>
                <input
                  type="checkbox"
                  aria-label="Select all on this page"
                  checked={selected.size > 0 && selected.size === images.length}
                  onChange={(e) =>
                    setSelected(
                      (e.target as HTMLInputElement).checked
                        ? new Set(images.map((i) => String(i.id)))
                        : new Set(),
                    )
                  }
                />
              </th>
              {header("Name", "name")}
              {columns.map((c) => header(c.label, c.sort))}
            </tr>
          </thead>
          <tbody>
            {images.map((image) => (
              <tr key={image.id}>
                <td>
                  <input
                    type="checkbox"
                    aria-label={`Select ${String(image.name || image.id)}`}
                    checked={selected.has(String(image.id))}
                    onChange={(e) => {
                      const next = new Set(selected);
                      if ((e.target as HTMLInputElement).checked) next.add(String(image.id));
                      else next.delete(String(image.id));
                      setSelected(next);
                    }}
                  />
                </td>
                <td>
                  <a href={`#/images/${encodeURIComponent(image.id)}`}>{image.name || "(no name)"}</a>
                </td>
                {columns.map((c) =>
                  c.id === "status" ? (
                    <td>
                      <span class={`status status-${image.status}`}>{image.status}</span>{" "}
                      <DeprecationBadge image={image} />
                    </td>
                  ) : (
                    <td>{c.cell(image)}</td>
                  ),
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <nav class="pager" aria-label="Pages">
        <button
          type="button"
          disabled={markers.length === 0}
          onClick={() => go({ ...state, markers: markers.slice(0, -1) })}
        >
          Previous page
        </button>
        <span>Page {markers.length + 1}</span>
        <button
          type="button"
          disabled={!page?.next}
          onClick={() => page?.next && go({ ...state, markers: [...markers, page.next] })}
        >
          Next page
        </button>
      </nav>
    </section>
  );
}

/**
 * Delete or deactivate the selected images, after one confirmation naming how many; each goes
 * through the API on its own, and what was refused is listed with the reason.
 */
function BulkActions({ images, onDone }: { images: Json[]; onDone: () => void }) {
  const [confirming, setConfirming] = useState<"delete" | "deactivate" | null>(null);
  const [busy, setBusy] = useState(false);
  const [refused, setRefused] = useState<string[]>([]);
  if (images.length === 0 && refused.length === 0) return null;
  const run = async (action: "delete" | "deactivate") => {
    setBusy(true);
    const failures: string[] = [];
    for (const image of images) {
      const id = encodeURIComponent(String(image.id));
      try {
        if (action === "delete") await call("DELETE", `/v2/images/${id}`);
        else await call("POST", `/v2/images/${id}/actions/deactivate`);
      } catch (err) {
        failures.push(
          `${String(image.name || image.id)}: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
    }
    setBusy(false);
    setConfirming(null);
    setRefused(failures);
    onDone();
  };
  const count = `${images.length} image${images.length === 1 ? "" : "s"}`;
  return (
    <div class="bulk" role="group" aria-label="Selected images">
      {images.length > 0 && !confirming && (
        <>
          <span>{count} selected</span>
          <button type="button" onClick={() => setConfirming("deactivate")}>
            Deactivate
          </button>
          <button type="button" class="danger" onClick={() => setConfirming("delete")}>
            Delete
          </button>
        </>
      )}
      {confirming && (
        <span class="confirm">
          {confirming === "delete" ? `Delete ${count} for good?` : `Deactivate ${count}?`}
          <button
            type="button"
            class={confirming === "delete" ? "danger" : undefined}
            disabled={busy}
            onClick={() => void run(confirming)}
          >
            Yes, {confirming} {count}
          </button>
          <button type="button" disabled={busy} onClick={() => setConfirming(null)}>
            Keep them
          </button>
        </span>
      )}
      {refused.length > 0 && (
        <ul class="error" role="alert">
          {refused.map((r) => (
            <li>{r}</li>
          ))}
        </ul>
      )}
    </div>
  );
}
