import { useEffect, useState } from "preact/hooks";
import { ApiError, type Json, call } from "../api.js";
import { bytes } from "../format.js";
import { ErrorNote } from "./parts.js";

/** Glance's quota names, as people read them. */
const QUOTAS: { name: string; title: string; size: boolean }[] = [
  { name: "image_size_total", title: "Image bytes", size: true },
  { name: "image_count_total", title: "Images", size: false },
  { name: "image_stage_total", title: "Bytes staged for import", size: true },
  { name: "image_count_uploading", title: "Images receiving data", size: false },
];

/** Past this share of a limit, the bar warns; at the limit, new data is refused. */
const HIGH = 0.8;

/**
 * The folder's usage against its limits (`GET /vitrine/v1/quotas/{folder}`): a bar per limited
 * quota, the usage alone where there is no limit.
 */
export function QuotaBars({ folder }: { folder: string }) {
  const [quota, setQuota] = useState<Json | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let stale = false;
    setQuota(null);
    call("GET", `/vitrine/v1/quotas/${encodeURIComponent(folder)}`).then(
      (body) => !stale && setQuota(body),
      // A token without a role in the folder has no quota to see: nothing to show, nothing wrong.
      (err: unknown) => !stale && !(err instanceof ApiError && err.status === 403) && setError(err),
    );
    return () => {
      stale = true;
    };
  }, [folder]);
  if (error) return <ErrorNote error={error} />;
  if (!quota) return null;
  const from = quota.origin === "keystone" ? "Keystone's unified limits" : "this service's admins";
  return (
    <section class="quotas" aria-labelledby="quotas-title">
      <h2 id="quotas-title">Quotas</h2>
      <p class="chart-summary">
        Limits set by {from}; data that would pass one is refused. Data that several images of the folder
        share counts once.
      </p>
      <ul class="quota-list">
        {QUOTAS.map(({ name, title, size }) => {
          const { limit, usage } = (quota.quotas as Record<string, { limit?: string; usage: string }>)[
            name
          ] ?? {
            usage: "0",
          };
          const shown = (v: string) => (size ? bytes(v) : v);
          const id = `quota-${name}`;
          if (limit === undefined) {
            return (
              <li key={name}>
                <span id={id}>{title}</span>
                <span class="quota-figure">{shown(usage)} · no limit</span>
              </li>
            );
          }
          const share = Number(limit) === 0 ? 1 : Number(usage) / Number(limit);
          return (
            <li key={name} class={share >= 1 ? "full" : share >= HIGH ? "high" : ""}>
              <span id={id}>{title}</span>
              <meter
                aria-labelledby={id}
                min={0}
                max={Number(limit)}
                low={Number(limit) * HIGH}
                high={Number(limit) * 0.999}
                optimum={0}
                value={Math.min(Number(usage), Number(limit))}
              />
              <span class="quota-figure">
                {shown(usage)} of {shown(limit)} ({Math.round(share * 100)} %)
              </span>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
