import { useEffect, useRef, useState } from "preact/hooks";
import {
  ApiError,
  type Json,
  call,
  followOperation,
  forgetUpload,
  pendingUpload,
  query,
  uploadFile,
} from "../api.js";
import { fileFormat } from "../file-format.js";
import { STAGES, progressText } from "../format.js";
import { ErrorNote, Progress } from "./parts.js";

const FORMATS = ["qcow2", "raw", "vmdk", "vhd", "vhdx", "vdi", "iso"];

interface Shown {
  value: number;
  max: number | null;
  text: string;
}

/** Where a running create tells the page how it goes. */
interface Report {
  progress(p: Shown): void;
  status(s: string): void;
  done(image: Json): void;
}

/** Bytes done of a total, in figures and words, since `startedAt` (performance.now()) when `from` were done. */
const shown = (value: number, max: number | null, startedAt: number, from = 0): Shown => ({
  value,
  max,
  text: progressText(value, max, (performance.now() - startedAt) / 1000, from),
});

/**
 * A new image: a local file streamed from the browser to the upload API (progress, speed, time
 * left, Cancel), or a Compute import from a URL or from another image, followed live until it is
 * READY or refused (a refused image shows the rule that refused it).
 */
export function CreateImage({ folder }: { folder: string }) {
  const [mode, setMode] = useState<"upload" | "url" | "image">("upload");
  const [progress, setProgress] = useState<Shown | null>(null);
  const [status, setStatus] = useState<string>("");
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<Json | null>(null);
  const [running, setRunning] = useState(false);
  const cancel = useRef<AbortController | null>(null);

  const start = async (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    setError(null);
    setDone(null);
    setProgress(null);
    setRunning(true);
    const controller = new AbortController();
    cancel.current = controller;
    try {
      const report: Report = { progress: setProgress, status: setStatus, done: setDone };
      if (mode === "upload") await upload(f, folder, controller.signal, report);
      else await importImage(mode, f, folder, controller.signal, report);
    } catch (err) {
      setError(err);
      setStatus("");
    } finally {
      setRunning(false);
      cancel.current = null;
    }
  };

  return (
    <section>
      <h1 tabIndex={-1}>Create an image in {folder || "(no folder)"}</h1>
      <div
        role="tablist"
        class="tabs"
        aria-label="How the image's data comes"
        onKeyDown={(e) => {
          // Arrow keys move between tabs, as in any tab list; Tab leaves the list.
          const order = ["upload", "url", "image"] as const;
          const step = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
          if (step === 0 || running) return;
          e.preventDefault();
          const next = order[(order.indexOf(mode) + step + order.length) % order.length]!;
          setMode(next);
          setTimeout(() => document.getElementById(`tab-${next}`)?.focus(), 0);
        }}
      >
        {(
          [
            ["upload", "Upload a file"],
            ["url", "Import from a URL"],
            ["image", "From another image"],
          ] as const
        ).map(([m, label]) => (
          <button
            type="button"
            role="tab"
            id={`tab-${m}`}
            tabIndex={mode === m ? 0 : -1}
            aria-selected={mode === m}
            onClick={() => setMode(m)}
            disabled={running}
          >
            {label}
          </button>
        ))}
      </div>
      <form onSubmit={start} aria-label="Create image">
        <label>
          Name <input name="name" required />
        </label>
        {mode === "upload" && (
          <>
            <label>
              File <input name="file" type="file" required />
            </label>
            <label>
              Disk format (default: read from the file)
              <select name="diskFormat">
                <option value="">read from the file</option>
                {FORMATS.map((x) => (
                  <option>{x}</option>
                ))}
              </select>
            </label>
          </>
        )}
        {mode === "url" && (
          <label>
            URL <input name="uri" type="url" required placeholder="https://storage.example/disk.qcow2" />
          </label>
        )}
        {mode === "image" && <SourcePicker folder={folder} />}
        <fieldset class="details">
          <legend>Details (optional)</legend>
          <label>
            Description <input name="description" maxLength={256} />
          </label>
          <label>
            Labels (k=v, …) <input name="labels" placeholder="env=prod, team=web" />
          </label>
          {mode !== "upload" && (
            <label>
              Family <input name="family" placeholder="ubuntu-2404" />
            </label>
          )}
          <label>
            Minimum disk (GiB) <input name="minDisk" type="number" min="0" step="any" />
          </label>
          <label>
            Visibility
            <select name="visibility">
              <option value="private">private: this folder</option>
              <option value="shared">shared: with the projects you add</option>
              <option value="community">community: anyone who asks for it</option>
              <option value="public">public (admins)</option>
            </select>
          </label>
        </fieldset>
        <button type="submit" disabled={running || !folder}>
          Create
        </button>
        {running && (
          <button type="button" onClick={() => cancel.current?.abort()}>
            Cancel
          </button>
        )}
      </form>
      {status && <p class="status-line">{status}</p>}
      {progress && <Progress value={progress.value} max={progress.max} text={progress.text} />}
      <ErrorNote error={error} />
      {done && (
        <p class="done">
          Image <a href={`#/images/${encodeURIComponent(done.id)}`}>{done.name ?? done.id}</a> is{" "}
          <strong>{done.status}</strong>
          {done.checksum ? (
            <>
              {" "}
              — MD5 <code class="md5">{done.checksum}</code>
            </>
          ) : null}
        </p>
      )}
    </section>
  );
}

async function upload(f: FormData, folder: string, signal: AbortSignal, report: Report): Promise<void> {
  const file = f.get("file") as File;
  // The same file picked again after a reload: the upload goes on into the image it started.
  let resume = pendingUpload(file, folder);
  if (resume) {
    const earlier = await call("GET", `/v2/images/${resume.imageId}`).catch(() => null);
    if (earlier?.status !== "saving") {
      forgetUpload(file, folder);
      resume = null;
    }
  }
  const imageId = resume
    ? resume.imageId
    : String(
        (
          await call("POST", "/v2/images", {
            name: String(f.get("name")),
            owner: folder,
            disk_format: String(f.get("diskFormat") || (await fileFormat(file))),
            container_format: "bare",
            visibility: "private",
          })
        ).id,
      );
  report.status(resume ? "Resuming the upload of this file from what the server stored…" : "Uploading…");
  try {
    await uploadFile(
      { imageId, folder, resume },
      file,
      (p) => report.progress(shown(p.loaded, p.total, p.startedAt, p.from)),
      signal,
    );
  } catch (err) {
    if (err instanceof ApiError && err.status === 0 && !signal.aborted) {
      // The network stayed away longer than the retries: what the server stored is kept.
      throw new ApiError("The upload was interrupted: pick the same file again to resume it", 0, null);
    }
    // The image was made for this upload: nothing is left behind when it fails or is cancelled.
    await call("DELETE", `/v2/images/${imageId}`).catch(() => undefined);
    forgetUpload(file, folder);
    throw err;
  }
  report.status("Uploaded and checked.");
  await applyDetails(imageId, f, false);
  report.done(await call("GET", `/v2/images/${imageId}`));
}

/** "k=v, k2=v2" into labels. */
function labelsOf(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of text.split(",").filter((p) => p.includes("="))) {
    const at = pair.indexOf("=");
    labels[pair.slice(0, at).trim()] = pair.slice(at + 1).trim();
  }
  return labels;
}

/** The optional details a Compute create takes with it (family only there). */
function computeDetails(f: FormData): Json {
  const details: Json = {};
  const description = String(f.get("description") ?? "").trim();
  const labels = labelsOf(String(f.get("labels") ?? ""));
  const family = String(f.get("family") ?? "").trim();
  const minDisk = Number(f.get("minDisk") || 0);
  if (description) details.description = description;
  if (Object.keys(labels).length > 0) details.labels = labels;
  if (family) details.family = family;
  if (minDisk > 0) details.minDiskSize = String(Math.round(minDisk * 1024 ** 3));
  return details;
}

/**
 * What the create itself could not say: an upload's Compute details (a Compute update by the
 * image's OpenStack id) and any visibility but private (a new image starts private; this changes
 * it as an owner would with a patch).
 */
async function applyDetails(uuid: string, f: FormData, importedWithDetails: boolean): Promise<void> {
  const details = importedWithDetails ? {} : computeDetails(f);
  if (Object.keys(details).length > 0) {
    const op = await call("PATCH", `/compute/v1/images/${encodeURIComponent(uuid)}`, {
      ...details,
      updateMask: Object.keys(details).join(","),
    });
    const done = await followOperation(String(op.id), () => undefined);
    if (done.error) throw new ApiError(String(done.error.message), 0, null);
  }
  const visibility = String(f.get("visibility") ?? "private");
  if (visibility !== "private") {
    await call(
      "PATCH",
      `/v2/images/${encodeURIComponent(uuid)}`,
      [{ op: "replace", path: "/visibility", value: visibility }],
      "application/openstack-images-v2.1-json-patch",
    );
  }
}

async function importImage(
  mode: "url" | "image",
  f: FormData,
  folder: string,
  signal: AbortSignal,
  report: Report,
): Promise<void> {
  const source = mode === "url" ? { uri: String(f.get("uri")) } : { imageId: String(f.get("imageId")) };
  const op = await call("POST", "/compute/v1/images", {
    folderId: folder,
    name: String(f.get("name")),
    ...computeDetails(f),
    ...source,
  });
  report.status("Importing…");
  const startedAt = performance.now();
  let cancelled = false;
  signal.addEventListener("abort", () => {
    cancelled = true;
    void call("POST", `/operations/${op.id}:cancel`).catch(() => undefined);
  });
  let stage: string | undefined;
  const finished = await followOperation(String(op.id), (current) => {
    const p = current.progress as { bytesDone?: string; bytesTotal?: string; stage?: string } | undefined;
    if (!p || current.done) return;
    if (p.stage !== stage) {
      // The folder converts what arrives (README "Conversion and export"): a stage of its own.
      stage = p.stage;
      report.status(STAGES[stage ?? ""] ?? "Importing…");
    }
    const doneBytes = Number(p.bytesDone ?? 0);
    const total = Number(p.bytesTotal ?? 0) || null;
    report.progress(shown(doneBytes, total, startedAt));
  });
  if (finished.error) {
    throw new ApiError(cancelled ? "The import was cancelled" : String(finished.error.message), 0, null);
  }
  const image = finished.response as Json;
  await applyDetails(String(image.id), f, true);
  report.status("Imported.");
  report.done(await call("GET", `/v2/images/${encodeURIComponent(String(image.id))}`));
}

/**
 * The source image, picked from the folder's ready images by name as one types (the list comes
 * from the service); the form sends its id.
 */
function SourcePicker({ folder }: { folder: string }) {
  const [typed, setTyped] = useState("");
  const [found, setFound] = useState<Json[]>([]);
  useEffect(() => {
    let stale = false;
    const timer = setTimeout(() => {
      void call(
        "GET",
        `/v2/images${query({ owner: folder || undefined, status: "active", limit: 20, name: typed ? `contains:${typed}` : undefined })}`,
      ).then(
        (body) => !stale && setFound((body.images as Json[]) ?? []),
        () => !stale && setFound([]),
      );
    }, 250);
    return () => {
      stale = true;
      clearTimeout(timer);
    };
  }, [folder, typed]);
  const chosen = found.find((i) => i.name === typed || i.id === typed);
  return (
    <>
      <label>
        Source image
        <input
          name="sourceName"
          list="source-images"
          required
          autoComplete="off"
          placeholder="type to search the folder's images"
          value={typed}
          onInput={(e) => setTyped((e.target as HTMLInputElement).value)}
        />
      </label>
      <datalist id="source-images">
        {found.map((i) => (
          <option value={String(i.name || i.id)}>{`${String(i.disk_format ?? "")} · ${String(i.id)}`}</option>
        ))}
      </datalist>
      <input type="hidden" name="imageId" value={chosen ? String(chosen.id) : typed} />
      {typed && !chosen && found.length === 0 && (
        <p class="hint">No ready image of this folder has that in its name.</p>
      )}
    </>
  );
}
