import { useEffect, useState } from "preact/hooks";
import { type Json, call, query } from "../api.js";
import { bytes, when } from "../format.js";
import { ErrorNote } from "./parts.js";

const PAGE = 50;
const STATUSES = ["", "queued", "saving", "importing", "uploading", "active", "deactivated", "killed"];
const FORMATS = ["", "qcow2", "raw", "vmdk", "vhd", "vhdx", "vdi", "iso"];
type SortKey = "created_at" | "name" | "size" | "status";

/** Which API family an image belongs to, as the OpenStack view tells it. */
export const kindOf = (image: Json): "BareMetal" | "Compute" =>
  image.virtual_env_type === "Ironic" ? "BareMetal" : "Compute";

/**
 * The folder's images, every kind in one table, through the OpenStack listing: filters and
 * sorting run on the server, and pages follow a marker (keyset), so page 2,000 of 100,000
 * images costs what page 1 does.
 */
export function ImageList({ folder }: { folder: string }) {
  const [filters, setFilters] = useState({ name: "", status: "", disk_format: "", tag: "" });
  const [sort, setSort] = useState<{ key: SortKey; dir: "asc" | "desc" }>({ key: "created_at", dir: "desc" });
  /** Markers of the pages before this one (the first page has none). */
  const [markers, setMarkers] = useState<string[]>([]);
  const [page, setPage] = useState<{ images: Json[]; next: string | null } | null>(null);
  const [error, setError] = useState<unknown>(null);

  const marker = markers.at(-1);
  useEffect(() => {
    let stale = false;
    setError(null);
    call(
      "GET",
      `/v2/images${query({
        owner: folder || undefined,
        limit: PAGE,
        marker,
        sort_key: sort.key,
        sort_dir: sort.dir,
        ...filters,
      })}`,
    ).then(
      (body) => {
        if (stale) return;
        const images = (body.images as Json[]) ?? [];
        setPage({ images, next: body.next ? String(images.at(-1)?.id ?? "") : null });
      },
      (err: unknown) => !stale && setError(err),
    );
    return () => {
      stale = true;
    };
  }, [folder, marker, sort.key, sort.dir, filters.name, filters.status, filters.disk_format, filters.tag]);

  const setFilter = (name: keyof typeof filters) => (e: Event) => {
    setMarkers([]);
    setFilters({ ...filters, [name]: (e.target as HTMLInputElement).value.trim() });
  };
  const sortBy = (key: SortKey) => {
    setMarkers([]);
    setSort(
      sort.key === key
        ? { key, dir: sort.dir === "asc" ? "desc" : "asc" }
        : { key, dir: key === "name" ? "asc" : "desc" },
    );
  };
  const header = (key: SortKey, label: string) => (
    <th aria-sort={sort.key === key ? (sort.dir === "asc" ? "ascending" : "descending") : undefined}>
      <button type="button" class="sort" onClick={() => sortBy(key)}>
        {label}
        {sort.key === key ? (sort.dir === "asc" ? " ▲" : " ▼") : ""}
      </button>
    </th>
  );

  return (
    <section>
      <h1 tabIndex={-1}>Images{folder ? ` in ${folder}` : ""}</h1>
      <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filters">
        <label>
          Name
          <input name="name" onChange={setFilter("name")} />
        </label>
        <label>
          Status
          <select name="status" onChange={setFilter("status")}>
            {STATUSES.map((s) => (
              <option value={s}>{s || "any"}</option>
            ))}
          </select>
        </label>
        <label>
          Format
          <select name="disk_format" onChange={setFilter("disk_format")}>
            {FORMATS.map((f) => (
              <option value={f}>{f || "any"}</option>
            ))}
          </select>
        </label>
        <label>
          Tag
          <input name="tag" onChange={setFilter("tag")} />
        </label>
      </form>
      <ErrorNote error={error} />
      {page && (
        <table class="images">
          <thead>
            <tr>
              {header("name", "Name")}
              <th>Kind</th>
              {header("status", "Status")}
              <th>Format</th>
              {header("size", "Size")}
              <th>Virtual size</th>
              <th>Visibility</th>
              <th>Tags</th>
              {header("created_at", "Created")}
            </tr>
          </thead>
          <tbody>
            {page.images.map((image) => (
              <tr key={image.id}>
                <td>
                  <a href={`#/images/${encodeURIComponent(image.id)}`}>{image.name ?? "(no name)"}</a>
                </td>
                <td>{kindOf(image)}</td>
                <td>
                  <span class={`status status-${image.status}`}>{image.status}</span>
                </td>
                <td>{image.disk_format ?? ""}</td>
                <td>{bytes(image.size)}</td>
                <td>{bytes(image.virtual_size)}</td>
                <td>{image.visibility}</td>
                <td>{(image.tags as string[]).join(", ")}</td>
                <td>{when(image.created_at)}</td>
              </tr>
            ))}
            {page.images.length === 0 && (
              <tr>
                <td colSpan={9}>No images match.</td>
              </tr>
            )}
          </tbody>
        </table>
      )}
      <nav class="pager" aria-label="Pages">
        <button
          type="button"
          disabled={markers.length === 0}
          onClick={() => setMarkers(markers.slice(0, -1))}
        >
          Previous page
        </button>
        <span>Page {markers.length + 1}</span>
        <button
          type="button"
          disabled={!page?.next}
          onClick={() => page?.next && setMarkers([...markers, page.next])}
        >
          Next page
        </button>
      </nav>
    </section>
  );
}
