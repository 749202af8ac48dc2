import { CONVERTIBLE_FORMATS } from "../../../src/core/conversion/conversion-policy.js";
import { useEffect, useState } from "preact/hooks";
import { type Json, call, downloadFile, followOperation } from "../api.js";
import { STAGES, bytes, when } from "../format.js";
import { kindOf } from "./image-list.js";
import type { ComponentChildren } from "preact";
import { Copyable, DeprecationBadge, ErrorNote } from "./parts.js";

/** OpenStack fields the groups show (or that are links); every other key is a property, listed as is. */
const SHOWN = new Set([
  "id",
  "name",
  "status",
  "visibility",
  "protected",
  "os_hidden",
  "owner",
  "checksum",
  "os_hash_algo",
  "os_hash_value",
  "size",
  "virtual_size",
  "disk_format",
  "container_format",
  "created_at",
  "updated_at",
  "tags",
  "min_ram",
  "min_disk",
  "self",
  "file",
  "schema",
  "__os_version",
  "__os_type",
  "__os_bit",
  "virtual_env_type",
  "stores",
  // The Lifecycle group (README "Lifecycle").
  "deprecation_state",
  "deprecation_replacement",
  "deprecation_deprecate_at",
  "deprecation_obsolete_at",
  "deprecation_delete_at",
  "last_used_at",
  "use_count",
  // "Converted from" (README "Conversion and export").
  "vitrine_original_disk_format",
  "vitrine_original_size",
  "vitrine_original_checksum",
  "vitrine_original_os_hash_value",
  "vitrine_source_compression",
  "vitrine_exported_from",
]);

/** The formats an image can be exported to (the biggest, raw, last), and the disk formats that can be. */
const EXPORT_FORMATS = ["qcow2", "vmdk", "vhd", "vhdx", "raw"];
const EXPORTABLE = new Set<string>(CONVERTIBLE_FORMATS);

/** Statuses from which an image can never be used again: no edit or share forms for them. */
const DEAD = new Set(["killed", "deleted", "pending_delete"]);

/**
 * One image: every field of every dialect that applies (the OpenStack view for all, the Compute
 * view for Compute images), checksums with copy buttons, its operations, who it is shared with,
 * and what may be done to it. Every value is rendered as text.
 */
export function ImageDetail({ id }: { id: string }) {
  const [image, setImage] = useState<Json | null>(null);
  const [compute, setCompute] = useState<Json | null>(null);
  /** null until read: a failed image's reason comes from them, so it waits for them. */
  const [operations, setOperations] = useState<Json[] | null>(null);
  const [bindings, setBindings] = useState<Json[]>([]);
  const [members, setMembers] = useState<Json[]>([]);
  const [may, setMay] = useState<Record<string, { allowed: boolean; reason?: string }> | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [version, setVersion] = useState(0);
  const reload = () => setVersion(version + 1);

  useEffect(() => {
    let stale = false;
    (async () => {
      const [os, actions] = await Promise.all([
        call("GET", `/v2/images/${encodeURIComponent(id)}`),
        // What the signed-in subject may do here, by the API's own rules (Vitrine's extension).
        call("GET", `/v2/images/${encodeURIComponent(id)}/actions`).catch(() => ({ actions: null })),
      ]);
      if (stale) return;
      setImage(os);
      setMay(actions.actions as typeof may);
      if (kindOf(os) === "Compute") {
        const [c, ops, access] = await Promise.all([
          call("GET", `/compute/v1/images/${encodeURIComponent(id)}`),
          call("GET", `/compute/v1/images/${encodeURIComponent(id)}/operations?pageSize=20`),
          call("GET", `/compute/v1/images/${encodeURIComponent(id)}:listAccessBindings`).catch(() => ({
            accessBindings: [],
          })),
        ]);
        if (stale) return;
        setCompute(c);
        setOperations((ops.operations as Json[]) ?? []);
        setBindings((access.accessBindings as Json[]) ?? []);
      } else setOperations([]);
      if (os.visibility === "shared") {
        const m = await call("GET", `/v2/images/${encodeURIComponent(id)}/members`).catch(() => ({
          members: [],
        }));
        if (!stale) setMembers((m.members as Json[]) ?? []);
      }
    })().catch((err: unknown) => !stale && setError(err));
    return () => {
      stale = true;
    };
  }, [id, version]);

  useEffect(() => {
    if (image) document.title = `${String(image.name || image.id)} · Vitrine`;
  }, [image]);
  if (!image) return <ErrorNote error={error} />;
  const failure = operations === null ? null : failureOf(image, operations);
  const dead = DEAD.has(String(image.status));
  return (
    <section>
      <h1 tabIndex={-1}>{image.name || "(no name)"}</h1>
      <p class="ids">
        <StatusBadge status={String(image.status)} /> <DeprecationBadge image={image} />
        {compute ? (
          <>
            <code class="primary-id">{compute.id}</code>
            <span class="secondary-id">
              OpenStack ID <code>{image.id}</code>
            </span>
          </>
        ) : (
          <code class="primary-id">{image.id}</code>
        )}
      </p>
      <DeprecationNote image={image} />
      {failure && (
        <p class="failure" role="alert">
          This image failed and cannot be used: {failure}
        </p>
      )}
      <ErrorNote error={error} />
      <div class="groups">
        <Group title="General">
          <Row name="Description">{compute?.description ?? ""}</Row>
          <Row name="Kind">{kindOf(image)}</Row>
          <Row name="Family">{compute?.family ?? ""}</Row>
          <Row name="Labels">
            {Chips({
              items: Object.entries((compute?.labels as Record<string, string>) ?? {}).map(
                ([k, v]) => `${k}=${v}`,
              ),
            })}
          </Row>
          <Row name="Tags">{Chips({ items: (image.tags as string[]) ?? [] })}</Row>
        </Group>
        <Group title="Data and checksums">
          <Row name="Size">{image.size === null ? "no data yet" : bytes(image.size)}</Row>
          <Row name="Virtual size">{bytes(image.virtual_size)}</Row>
          <Row name="Format">{[image.disk_format, image.container_format].filter(Boolean).join(" in ")}</Row>
          <Row name="MD5">{image.checksum ? <Copyable value={image.checksum} label="MD5" /> : ""}</Row>
          <Row name="SHA-512">
            {image.os_hash_value ? <Copyable value={image.os_hash_value} label="SHA-512" /> : ""}
          </Row>
          <Row name="Converted from">{convertedFrom(image)}</Row>
          <Row name="Exported from">
            {image.vitrine_exported_from ? (
              <a href={`#/images/${encodeURIComponent(String(image.vitrine_exported_from))}`}>
                {String(image.vitrine_exported_from)}
              </a>
            ) : (
              ""
            )}
          </Row>
        </Group>
        <Group title="OS and hardware">
          <Row name="Operating system">{osOf(image, compute)}</Row>
          <Row name="Minimum disk">
            {compute ? bytes(compute.minDiskSize) : image.min_disk ? `${image.min_disk} GiB` : ""}
          </Row>
          <Row name="Minimum memory">{image.min_ram ? `${image.min_ram} MiB` : ""}</Row>
          <Row name="Hardware">{hardwareOf(compute)}</Row>
        </Group>
        <Group title="Sharing">
          <Row name="Visibility">{image.visibility}</Row>
          <Row name="Owner (folder)">{image.owner ?? ""}</Row>
          <Row name="Protected">{image.protected ? "yes: cannot be deleted" : "no"}</Row>
          {compute && (
            <Row name="Access bindings">
              <ul class="bindings">
                {bindings.map((b) => (
                  <li>
                    {b.roleId}: {b.subject?.type}:{b.subject?.id}
                  </li>
                ))}
                {bindings.length === 0 && <li>None: only the folder's roles apply.</li>}
              </ul>
            </Row>
          )}
          {members.length > 0 && (
            <Row name="Members">
              <ul class="members">
                {members.map((m) => (
                  <li>
                    {m.member_id} ({m.status})
                  </li>
                ))}
              </ul>
            </Row>
          )}
        </Group>
        <Group title="Properties">
          {Object.keys(image)
            .filter((k) => !SHOWN.has(k))
            .sort()
            .map((k) => (
              <Row name={k}>{typeof image[k] === "string" ? image[k] : JSON.stringify(image[k])}</Row>
            ))}
        </Group>
        <Group title="Lifecycle">
          <Row name="Created">{when(image.created_at)}</Row>
          <Row name="Updated">{when(image.updated_at)}</Row>
          <Row name="Hidden from lists">{image.os_hidden ? "yes" : "no"}</Row>
          <Row name="Last used">
            {image.last_used_at ? `${when(image.last_used_at)} (${String(image.use_count)} uses)` : "never"}
          </Row>
          {image.deprecation_deprecate_at && (
            <Row name="Deprecated from">{when(image.deprecation_deprecate_at)}</Row>
          )}
          {image.deprecation_obsolete_at && (
            <Row name="Obsolete from">{when(image.deprecation_obsolete_at)}</Row>
          )}
          {image.deprecation_delete_at && <Row name="Deleted on">{when(image.deprecation_delete_at)}</Row>}
        </Group>
      </div>
      <details class="all-fields">
        <summary>All fields</summary>
        <h2>OpenStack view</h2>
        <pre>{JSON.stringify(image, null, 2)}</pre>
        {compute && (
          <>
            <h2>Compute view</h2>
            <pre>{JSON.stringify(compute, null, 2)}</pre>
          </>
        )}
      </details>
      <Actions
        key={String(image.updated_at)}
        image={image}
        compute={dead ? null : compute}
        dead={dead}
        may={may}
        onChanged={reload}
      />
      {operations && operations.length > 0 && (
        <>
          <h2>Operations</h2>
          <table class="operations">
            <thead>
              <tr>
                <th>Operation</th>
                <th>Started</th>
                <th>Result</th>
              </tr>
            </thead>
            <tbody>
              {operations.map((op) => (
                <tr>
                  <td>
                    {op.description} <code>{op.id}</code>
                  </td>
                  <td>{when(op.createdAt)}</td>
                  <td>{operationResult(op)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}

/** A titled group of fields; a field with nothing to show is left out. */
function Group({ title, children }: { title: string; children: ComponentChildren }) {
  return (
    <section class="group" aria-label={title}>
      <h2>{title}</h2>
      <dl class="fields">{children}</dl>
    </section>
  );
}

function Row({ name, children }: { name: string; children: ComponentChildren }) {
  if (children === "" || children === null || children === undefined) return null;
  return (
    <>
      <dt>{name}</dt>
      <dd>{children}</dd>
    </>
  );
}

/** Labels and tags as chips; text only. */
function Chips({ items }: { items: string[] }) {
  if (items.length === 0) return null;
  return (
    <ul class="chips">
      {items.map((item) => (
        <li class="chip">{item}</li>
      ))}
    </ul>
  );
}

export function StatusBadge({ status }: { status: string }) {
  return <span class={`status status-${status}`}>{status}</span>;
}

/** What a deprecated image means for its user, and the image to use instead (a link). */
/** What converted data was before (README "Conversion and export"), in words; "" when it was not converted. */
function convertedFrom(image: Json): string {
  const compression = image.vitrine_source_compression
    ? `${String(image.vitrine_source_compression)}-compressed`
    : "";
  if (!image.vitrine_original_disk_format) return compression ? `${compression} upload` : "";
  const what = [compression, String(image.vitrine_original_disk_format)].filter(Boolean).join(" ");
  return `${what}, ${bytes(image.vitrine_original_size)}, MD5 ${String(image.vitrine_original_checksum)}`;
}

function DeprecationNote({ image }: { image: Json }) {
  const state = String(image.deprecation_state ?? "ACTIVE");
  if (state === "ACTIVE") return null;
  const replacement = image.deprecation_replacement ? String(image.deprecation_replacement) : null;
  const meaning =
    state === "OBSOLETE"
      ? "is obsolete: no new image can be made from it and only admins can download it"
      : "is deprecated: it still works, but it is no longer a family's latest";
  return (
    <p class="deprecation" role="note">
      This image {meaning}.
      {replacement && (
        <>
          {" "}
          Use <a href={`#/images/${encodeURIComponent(replacement)}`}>its replacement</a> instead.
        </>
      )}
    </p>
  );
}

/** Why a failed image failed: its last failed operation's message, or Glance's import marker. */
function failureOf(image: Json, operations: Json[]): string | null {
  if (image.status !== "killed" && !image.os_glance_failed_import) return null;
  const failed = operations.find((op) => op.error && op.error.code !== 1);
  if (failed) return String(failed.error.message);
  if (image.os_glance_failed_import)
    return `the import into store ${String(image.os_glance_failed_import)} failed`;
  return "its data was refused or could not be read (see its operations)";
}

/** An operation's outcome in words: a cancellation is not a failure. */
export function operationResult(op: Json): string {
  if (!op.done) return op.scheduledFor ? `scheduled for ${when(op.scheduledFor)}` : "running";
  if (!op.error) return "done";
  return op.error.code === 1 ? "cancelled" : `failed: ${String(op.error.message)}`;
}

function osOf(image: Json, compute: Json | null): string {
  const version = image.__os_version ? String(image.__os_version) : "";
  if (version) return version; // "Ubuntu 24.04 server 64bit": the bits are in it
  const type = String(compute?.os?.type ?? image.__os_type ?? "");
  return [type, image.__os_bit ? `${String(image.__os_bit)}-bit` : ""].filter(Boolean).join(", ");
}

function hardwareOf(compute: Json | null): string {
  const generation = compute?.hardwareGeneration as Json | undefined;
  if (!generation) return "";
  if (generation.generation2Features) return "Generation 2 (UEFI)";
  const pci = generation.legacyFeatures?.pciTopology;
  return pci
    ? `Generation 1 (legacy), ${pci === "PCI_TOPOLOGY_V2" ? "PCI topology v2" : "PCI topology v1"}`
    : "Generation 1";
}

/**
 * Edit, share, deactivate, download and delete: each through the public API. A refusal is shown
 * beside the form or buttons that asked, and the form keeps what was typed (its inputs are the
 * user's until a change succeeds and the image is read again).
 */
function Actions({
  image,
  compute,
  dead,
  may,
  onChanged,
}: {
  image: Json;
  /** The Compute view; null for other images and for failed ones (nothing to edit or share). */
  compute: Json | null;
  /** The image can never be used: only deleting it is offered. */
  dead: boolean;
  /** What the subject may do (null: unknown, everything is offered and the API decides). */
  may: Record<string, { allowed: boolean; reason?: string }> | null;
  onChanged: () => void;
}) {
  const allowed = (action: string) => may?.[action]?.allowed ?? true;
  /** A button the subject may not use: shown disabled, the reason beside it for every reader. */
  const why = (action: string) => (allowed(action) ? undefined : may?.[action]?.reason);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [failed, setFailed] = useState<{ where: string; error: unknown } | null>(null);
  const [exporting, setExporting] = useState<string | null>(null);
  const id = encodeURIComponent(image.id);
  const act = async (where: string, work: () => Promise<unknown>) => {
    setBusy(true);
    setFailed(null);
    try {
      await work();
      onChanged();
    } catch (err) {
      setFailed({ where, error: err });
    } finally {
      setBusy(false);
    }
  };
  const refusal = (where: string) => (failed?.where === where ? <ErrorNote error={failed.error} /> : null);
  const form = (e: Event) => new FormData(e.target as HTMLFormElement);

  return (
    <div class="actions">
      {compute && allowed("update") && (
        <form
          aria-label="Edit"
          onSubmit={(e) => {
            e.preventDefault();
            const f = form(e);
            const labels: Record<string, string> = {};
            for (const pair of String(f.get("labels"))
              .split(",")
              .filter((p) => p.includes("="))) {
              const at = pair.indexOf("=");
              labels[pair.slice(0, at).trim()] = pair.slice(at + 1).trim();
            }
            const minDiskGiB = Number(f.get("minDisk"));
            void act("edit", async () => {
              const op = await call("PATCH", `/compute/v1/images/${id}`, {
                name: String(f.get("name")),
                description: String(f.get("description")),
                labels,
                minDiskSize: String(Math.round(minDiskGiB * 1024 ** 3)),
                updateMask: "name,description,labels,minDiskSize",
              });
              await finished(op);
            });
          }}
        >
          <h2>Edit</h2>
          <label>
            Name <input name="name" defaultValue={compute.name ?? ""} />
          </label>
          <label>
            Description <input name="description" defaultValue={compute.description ?? ""} />
          </label>
          <label>
            Labels (k=v, …)
            <input
              name="labels"
              defaultValue={Object.entries((compute.labels as Record<string, string>) ?? {})
                .map(([k, v]) => `${k}=${v}`)
                .join(", ")}
            />
          </label>
          <label>
            Min disk (GiB){" "}
            <input
              name="minDisk"
              type="number"
              min="0"
              step="any"
              defaultValue={String(Number(compute.minDiskSize ?? 0) / 1024 ** 3)}
            />
          </label>
          {refusal("edit")}
          <button type="submit" disabled={busy}>
            Save
          </button>
        </form>
      )}
      {compute && allowed("update") && (
        <form
          aria-label="Deprecation"
          onSubmit={(e) => {
            e.preventDefault();
            const f = form(e);
            // A day from the date picker, at midnight UTC; empty: none.
            const day = (name: string) => (f.get(name) ? `${String(f.get(name))}T00:00:00Z` : undefined);
            void act("deprecate", async () => {
              const op = await call("POST", `/compute/v1/images/${id}:deprecate`, {
                state: String(f.get("state")),
                replacement: String(f.get("replacement")).trim() || undefined,
                obsoleteAt: day("obsoleteAt"),
                deleteAt: day("deleteAt"),
              });
              await finished(op);
            });
          }}
        >
          <h2>Deprecation</h2>
          <label>
            State{" "}
            <select name="state" defaultValue={String(compute.deprecated?.state ?? "ACTIVE")}>
              <option value="ACTIVE">active</option>
              <option value="DEPRECATED">deprecated</option>
              <option value="OBSOLETE">obsolete</option>
            </select>
          </label>
          <label>
            Replacement (image id)
            <input name="replacement" defaultValue={String(compute.deprecated?.replacement ?? "")} />
          </label>
          <label>
            Obsolete on{" "}
            <input name="obsoleteAt" type="date" defaultValue={dayOf(compute.deprecated?.obsoleteAt)} />
          </label>
          <label>
            Deleted on{" "}
            <input name="deleteAt" type="date" defaultValue={dayOf(compute.deprecated?.deleteAt)} />
          </label>
          {refusal("deprecate")}
          <button type="submit" disabled={busy}>
            Save
          </button>
        </form>
      )}
      {compute && image.status === "active" && EXPORTABLE.has(String(image.disk_format)) && (
        <form
          aria-label="Export"
          onSubmit={(e) => {
            e.preventDefault();
            const f = form(e);
            const exportCopy = async () => {
              const op = await call("POST", `/compute/v1/images/${id}:export`, {
                format: String(f.get("format")),
                name: String(f.get("exportName")).trim() || undefined,
              });
              const done = await followOperation(String(op.id), (current) => {
                const p = current.progress as
                  { bytesDone?: string; bytesTotal?: string; stage?: string } | undefined;
                const total = Number(p?.bytesTotal ?? 0);
                const pct = p && total ? ` ${Math.floor((100 * Number(p.bytesDone ?? 0)) / total)} %` : "";
                setExporting(current.done ? null : `${STAGES[p?.stage ?? ""] ?? "Exporting…"}${pct}`);
              });
              if (done.error) throw new Error(String(done.error.message));
              location.hash = `#/images/${encodeURIComponent(String(done.response.id))}`;
            };
            void act("export", async () => {
              try {
                await exportCopy();
              } finally {
                setExporting(null);
              }
            });
          }}
        >
          <h2>Export</h2>
          <p class="hint">
            A copy in another format, as a new image (qemu-img converts it; VMDK is streamOptimized).
          </p>
          <label>
            Format{" "}
            <select name="format">
              {EXPORT_FORMATS.filter((fmt) => fmt !== image.disk_format).map((fmt) => (
                <option value={fmt}>{fmt}</option>
              ))}
            </select>
          </label>
          <label>
            Name of the copy <input name="exportName" placeholder="optional" />
          </label>
          {exporting && <p role="status">{exporting}</p>}
          {refusal("export")}
          <button type="submit" disabled={busy}>
            Export
          </button>
        </form>
      )}
      {compute && allowed("share") && (
        <form
          aria-label="Share"
          onSubmit={(e) => {
            e.preventDefault();
            const f = form(e);
            const subject = String(f.get("subject"));
            const at = subject.indexOf(":");
            void act("share", async () => {
              if (at <= 0)
                throw new Error("Name the subject as type:id, e.g. userAccount:ajeabc… or system:allUsers");
              const op = await call("POST", `/compute/v1/images/${id}:updateAccessBindings`, {
                accessBindingDeltas: [
                  {
                    action: "ADD",
                    accessBinding: {
                      roleId: String(f.get("role")),
                      subject: { type: subject.slice(0, at), id: subject.slice(at + 1) },
                    },
                  },
                ],
              });
              await finished(op);
            });
          }}
        >
          <h2>Share</h2>
          <label>
            Subject <input name="subject" placeholder="userAccount:… or system:allUsers" />
          </label>
          <label>
            Role
            <select name="role">
              <option>viewer</option>
              <option>compute.images.user</option>
              <option>editor</option>
              <option>admin</option>
            </select>
          </label>
          {refusal("share")}
          <button type="submit" disabled={busy}>
            Grant
          </button>
        </form>
      )}
      {!dead && allowed("addMembers") && (
        <form
          aria-label="Share with a project"
          onSubmit={(e) => {
            e.preventDefault();
            const member = String(form(e).get("member")).trim();
            void act("member", async () => {
              // Members see an image only while it is shared (Glance's rule): share it first.
              if (image.visibility !== "shared") {
                await call(
                  "PATCH",
                  `/v2/images/${id}`,
                  [{ op: "replace", path: "/visibility", value: "shared" }],
                  "application/openstack-images-v2.1-json-patch",
                );
              }
              await call("POST", `/v2/images/${id}/members`, { member });
            });
          }}
        >
          <h2>Share with a project</h2>
          <label>
            Project (member) <input name="member" required />
          </label>
          {refusal("member")}
          <button type="submit" disabled={busy}>
            Add member
          </button>
        </form>
      )}
      <div class="buttons">
        <button
          type="button"
          disabled={busy || image.status !== "active" || !allowed("download")}
          title={why("download")}
          onClick={() => void act("buttons", () => download(image))}
        >
          Download
        </button>
        {image.status === "active" && (
          <button
            type="button"
            disabled={busy || !allowed("deactivate")}
            title={why("deactivate")}
            onClick={() => void act("buttons", () => call("POST", `/v2/images/${id}/actions/deactivate`))}
          >
            Deactivate
          </button>
        )}
        {image.status === "deactivated" && (
          <button
            type="button"
            disabled={busy || !allowed("reactivate")}
            title={why("reactivate")}
            onClick={() => void act("buttons", () => call("POST", `/v2/images/${id}/actions/reactivate`))}
          >
            Reactivate
          </button>
        )}
        {!confirming ? (
          <button
            type="button"
            class="danger"
            disabled={busy || !allowed("delete")}
            title={why("delete")}
            onClick={() => setConfirming(true)}
          >
            Delete
          </button>
        ) : (
          <span class="confirm" role="group" aria-label="Confirm deletion">
            Delete “{image.name ?? image.id}” for good?
            <button
              type="button"
              class="danger"
              onClick={() =>
                void act("buttons", async () => {
                  await call("DELETE", `/v2/images/${id}`);
                  location.hash = "#/images";
                })
              }
            >
              Yes, delete
            </button>
            <button type="button" onClick={() => setConfirming(false)}>
              Keep it
            </button>
          </span>
        )}
      </div>
      {refusal("buttons")}
      {may && (
        <ul class="not-allowed">
          {Object.entries(NOT_OFFERED).map(([action, what]) =>
            // Buttons the image's state hides anyway need no reason.
            allowed(action) || (STATE_BOUND.has(action) && image.status !== "active") ? null : (
              <li>
                {what}: {may[action]?.reason}
              </li>
            ),
          )}
        </ul>
      )}
    </div>
  );
}

/** What is not offered when the subject may not do it, in words (the reason follows). */
const NOT_OFFERED: Record<string, string> = {
  update: "Editing",
  share: "Granting roles",
  addMembers: "Sharing with projects",
  delete: "Deleting",
  deactivate: "Deactivating",
  download: "Downloading",
};

/** Actions only an active image offers at all. */
const STATE_BOUND = new Set(["deactivate", "download"]);

/** Waits for an operation a change started; its error, in words, if it failed. */
/** The day of an RFC 3339 time, as a date input takes it; "" for none. */
const dayOf = (time: unknown): string => (typeof time === "string" ? time.slice(0, 10) : "");

async function finished(op: Json): Promise<void> {
  const done = await followOperation(String(op.id), () => undefined);
  if (done.error) throw new Error(String(done.error.message));
}

/** Downloads the image's bytes and hands them to the browser as a file. */
async function download(image: Json): Promise<void> {
  const url = URL.createObjectURL(await downloadFile(String(image.id)));
  const a = document.createElement("a");
  a.href = url;
  a.download = `${image.name || image.id}.${image.disk_format ?? "img"}`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
