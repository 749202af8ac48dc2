import { useEffect, useState } from "preact/hooks";
import { ApiError, type Json, call, query } from "../api.js";
import { bytes } from "../format.js";
import { BarChart } from "./charts.js";
import { kindOf } from "./image-list.js";
import { ErrorNote } from "./parts.js";
import { QuotaBars } from "./quotas.js";

/** How many of the folder's newest images and operations the charts are drawn from. */
const MAX_IMAGES = 1000;
const MAX_OPERATIONS = 500;
const WEEKS = 12;
const HOURS = 24;
const COLORS = {
  compute: "#1a5fb4",
  baremetal: "#c64600",
  bytes: "#2e7d32",
  failed: "#b3261e",
  cancelled: "#8a8f98",
};

/** Every item of a list the service pages by marker (OpenStack) or token (Yandex), up to `max`. */
async function gather(
  first: string,
  next: (body: Json) => string | null,
  field: string,
  max: number,
): Promise<Json[]> {
  const items: Json[] = [];
  let url: string | null = first;
  while (url && items.length < max) {
    const body: Json = await call("GET", url);
    const page = (body[field] as Json[]) ?? [];
    items.push(...page);
    url = page.length > 0 ? next(body) : null;
  }
  return items.slice(0, max);
}

/** Monday 00:00 UTC of the week `ms` falls in. */
const weekOf = (ms: number): number => {
  const d = new Date(ms);
  const day = (d.getUTCDay() + 6) % 7;
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - day);
};
const shortDate = (ms: number) =>
  new Date(ms).toLocaleDateString(undefined, { month: "short", day: "numeric" });

/**
 * Images and bytes per folder, and what sharing saves: an image made from another costs no copy,
 * so a folder's images name more bytes than it stores (`GET /compute/v1/images:summary`,
 * Vitrine's extension). Admins also see the folders holding the most bytes.
 */
export function Overview({ folder }: { folder: string }) {
  const [mine, setMine] = useState<Json | null>(null);
  const [all, setAll] = useState<Json[] | null>(null);
  const [sizeQuotas, setSizeQuotas] = useState<Map<string, Json>>(new Map());
  const [error, setError] = useState<unknown>(null);
  const [images, setImages] = useState<Json[] | null>(null);
  const [operations, setOperations] = useState<Json[] | null>(null);
  useEffect(() => {
    if (!folder) return;
    let stale = false;
    void gather(
      `/v2/images${query({ owner: folder, limit: 200 })}`,
      (body) => (body.next ? String(body.next) : null),
      "images",
      MAX_IMAGES,
    ).then(
      (found) => !stale && setImages(found),
      (err: unknown) => !stale && setError(err),
    );
    const page = (token?: string) =>
      `/operations${query({ folderId: folder, pageSize: 100, pageToken: token })}`;
    void gather(
      page(),
      (body) => (body.nextPageToken ? page(String(body.nextPageToken)) : null),
      "operations",
      MAX_OPERATIONS,
    ).then(
      (found) => !stale && setOperations(found),
      (err: unknown) => !stale && setError(err),
    );
    return () => {
      stale = true;
    };
  }, [folder]);
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
    call("GET", "/vitrine/v1/quotas").then(
      (body) =>
        !stale &&
        setSizeQuotas(
          new Map(
            (body.projects as Json[]).map((p) => [String(p.projectId), p.quotas.image_size_total as Json]),
          ),
        ),
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
      {folder && <QuotaBars folder={folder} />}
      {images && <ImageCharts images={images} />}
      {operations && <OperationChart operations={operations} />}
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
                <th>Size quota</th>
              </tr>
            </thead>
            <tbody>
              {all.map((f) => (
                <tr>
                  <td>{f.folderId}</td>
                  <td>{f.images}</td>
                  <td>{bytes(f.storedBytes)}</td>
                  <td>{bytes(f.savedBytes)}</td>
                  <td>{sizeQuotaOf(sizeQuotas.get(String(f.folderId)))}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}

/** A folder's size quota in the admins' table: the share used of its limit. */
function sizeQuotaOf(quota: Json | undefined): string {
  if (!quota) return "";
  if (quota.limit === undefined) return "no limit";
  const share =
    Number(quota.limit) === 0 ? 100 : Math.round((Number(quota.usage) / Number(quota.limit)) * 100);
  return `${share} % of ${bytes(quota.limit)}`;
}

/** Images and bytes by kind and format, and what was added each week. */
function ImageCharts({ images }: { images: Json[] }) {
  if (images.length === 0)
    return <p class="chart-summary">No images yet: the charts start with the first one.</p>;
  const formats = [...new Set(images.map((i) => String(i.disk_format ?? "none")))].sort();
  const by = (kind: string, format: string, value: (i: Json) => number) =>
    images
      .filter((i) => kindOf(i) === kind && String(i.disk_format ?? "none") === format)
      .reduce((sum, i) => sum + value(i), 0);
  const count = () => 1;
  const size = (i: Json) => Number(i.size ?? 0);
  const now = Date.now();
  const weeks = Array.from({ length: WEEKS }, (_, n) => weekOf(now) - (WEEKS - 1 - n) * 7 * 86_400_000);
  const added = weeks.map((w) => images.filter((i) => weekOf(Date.parse(String(i.created_at))) === w));
  const capped = images.length >= MAX_IMAGES ? ` (the newest ${MAX_IMAGES})` : "";
  const sizeOf = (list: Json[]) => list.reduce((sum, i) => sum + size(i), 0);
  return (
    <div class="charts">
      <BarChart
        title={`Images by format and kind${capped}`}
        labels={formats}
        series={[
          {
            label: "Compute",
            values: formats.map((f) => by("Compute", f, count)),
            color: COLORS.compute,
            stack: "k",
          },
          {
            label: "BareMetal",
            values: formats.map((f) => by("BareMetal", f, count)),
            color: COLORS.baremetal,
            stack: "k",
          },
        ]}
        summary={formats
          .map((f) => `${f}: ${by("Compute", f, count) + by("BareMetal", f, count)}`)
          .join(", ")}
      />
      <BarChart
        title={`Bytes by format and kind (MiB)${capped}`}
        labels={formats}
        series={[
          {
            label: "Compute",
            values: formats.map((f) => by("Compute", f, size) / 1024 ** 2),
            color: COLORS.compute,
            stack: "k",
          },
          {
            label: "BareMetal",
            values: formats.map((f) => by("BareMetal", f, size) / 1024 ** 2),
            color: COLORS.baremetal,
            stack: "k",
          },
        ]}
        summary={formats
          .map((f) => `${f}: ${bytes(by("Compute", f, size) + by("BareMetal", f, size))}`)
          .join(", ")}
      />
      <BarChart
        title="Images and bytes added per week"
        labels={weeks.map(shortDate)}
        series={[
          { label: "Images", values: added.map((a) => a.length), color: COLORS.compute },
          { label: "Bytes", values: added.map(sizeOf), color: COLORS.bytes, line: true },
        ]}
        formatRight={bytes}
        summary={`${added.at(-1)!.length} images (${bytes(sizeOf(added.at(-1)!))}) this week, ${added.reduce((n, a) => n + a.length, 0)} in ${WEEKS} weeks`}
      />
    </div>
  );
}

/** Operations per hour over the last day, by how they ended. */
function OperationChart({ operations }: { operations: Json[] }) {
  const hour = 3_600_000;
  const now = Math.floor(Date.now() / hour) * hour;
  const hours = Array.from({ length: HOURS }, (_, n) => now - (HOURS - 1 - n) * hour);
  const inHour = (h: number, outcome: (op: Json) => boolean) =>
    operations.filter((op) => Math.floor(Date.parse(String(op.createdAt)) / hour) * hour === h && outcome(op))
      .length;
  const failed = (op: Json) => Boolean(op.error) && op.error.code !== 1;
  const cancelled = (op: Json) => Boolean(op.error) && op.error.code === 1;
  const fine = (op: Json) => !op.error;
  const total = (outcome: (op: Json) => boolean) => hours.reduce((n, h) => n + inHour(h, outcome), 0);
  return (
    <div class="charts">
      <BarChart
        title="Operations per hour, last 24 hours"
        labels={hours.map((h) =>
          new Date(h).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" }),
        )}
        series={[
          {
            label: "done or running",
            values: hours.map((h) => inHour(h, fine)),
            color: COLORS.compute,
            stack: "o",
          },
          { label: "failed", values: hours.map((h) => inHour(h, failed)), color: COLORS.failed, stack: "o" },
          {
            label: "cancelled",
            values: hours.map((h) => inHour(h, cancelled)),
            color: COLORS.cancelled,
            stack: "o",
          },
        ]}
        summary={`${total(fine)} done or running, ${total(failed)} failed, ${total(cancelled)} cancelled`}
      />
    </div>
  );
}
