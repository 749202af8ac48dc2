import { useEffect, useState } from "preact/hooks";
import { type Json, call, downloadFile, followOperation } from "../api.js";
import { bytes, when } from "../format.js";
import { kindOf } from "./image-list.js";
import { Copyable, ErrorNote } from "./parts.js";

/** Fields every OpenStack client shows first; the rest (extension fields, properties) follow. */
const BASE_FIELDS = [
  "id",
  "name",
  "status",
  "disk_format",
  "container_format",
  "visibility",
  "protected",
  "owner",
];

/**
 * One image: every field of every dialect that applies (the OpenStack view for all, the Compute
 * view for Compute images), checksums with copy buttons, its operations, who it is shared with,
 * and what may be done to it. Every value is rendered as text.
 */
export function ImageDetail({ id }: { id: string }) {
  const [image, setImage] = useState<Json | null>(null);
  const [compute, setCompute] = useState<Json | null>(null);
  const [operations, setOperations] = useState<Json[]>([]);
  const [bindings, setBindings] = useState<Json[]>([]);
  const [members, setMembers] = useState<Json[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [version, setVersion] = useState(0);
  const reload = () => setVersion(version + 1);

  useEffect(() => {
    let stale = false;
    (async () => {
      const os = await call("GET", `/v2/images/${encodeURIComponent(id)}`);
      if (stale) return;
      setImage(os);
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
      }
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

  if (!image) return <ErrorNote error={error} />;
  const rest = Object.keys(image)
    .filter(
      (k) => !BASE_FIELDS.includes(k) && !["checksum", "os_hash_value", "self", "file", "schema"].includes(k),
    )
    .sort();
  return (
    <section>
      <h1>{image.name ?? "(no name)"}</h1>
      <ErrorNote error={error} />
      <dl class="fields">
        {BASE_FIELDS.map((k) => (
          <Field name={k} value={image[k]} />
        ))}
        <dt>size / virtual size</dt>
        <dd>
          {bytes(image.size)} / {bytes(image.virtual_size)}
        </dd>
        <dt>MD5</dt>
        <dd>{image.checksum ? <Copyable value={image.checksum} label="MD5" /> : "(no data yet)"}</dd>
        <dt>SHA-512</dt>
        <dd>
          {image.os_hash_value ? <Copyable value={image.os_hash_value} label="SHA-512" /> : "(no data yet)"}
        </dd>
        {rest.map((k) => (
          <Field name={k} value={image[k]} />
        ))}
      </dl>
      {compute && (
        <>
          <h2>Compute view</h2>
          <dl class="fields">
            {Object.keys(compute).map((k) => (
              <Field name={k} value={compute[k]} />
            ))}
          </dl>
        </>
      )}
      <Actions key={String(image.updated_at)} image={image} compute={compute} onChanged={reload} />
      {compute && (
        <>
          <h2>Access bindings</h2>
          <ul class="bindings">
            {bindings.map((b) => (
              <li>
                {b.roleId}: {b.subject?.type}:{b.subject?.id}
              </li>
            ))}
            {bindings.length === 0 && <li>None: only the folder's roles apply.</li>}
          </ul>
        </>
      )}
      {members.length > 0 && (
        <>
          <h2>Members</h2>
          <ul class="members">
            {members.map((m) => (
              <li>
                {m.member_id} ({m.status})
              </li>
            ))}
          </ul>
        </>
      )}
      {operations.length > 0 && (
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
                  <td>{op.error ? `failed: ${op.error.message}` : op.done ? "done" : "running"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}

function Field({ name, value }: { name: string; value: unknown }) {
  const text =
    value === null || value === undefined
      ? ""
      : typeof value === "object"
        ? JSON.stringify(value)
        : String(value);
  return (
    <>
      <dt>{name}</dt>
      <dd>{text}</dd>
    </>
  );
}

/**
 * Edit, share, deactivate, download and delete: each through the public API. A refusal is shown
 * beside the form or buttons that asked, and the form keeps what was typed (its inputs are the
 * user's until a change succeeds and the image is read again).
 */
function Actions({
  image,
  compute,
  onChanged,
}: {
  image: Json;
  compute: Json | null;
  onChanged: () => void;
}) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [failed, setFailed] = useState<{ where: string; error: unknown } | null>(null);
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
      {compute && (
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
      {compute && (
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
      <div class="buttons">
        <button
          type="button"
          disabled={busy || image.status !== "active"}
          onClick={() => void act("buttons", () => download(image))}
        >
          Download
        </button>
        {image.status === "active" && (
          <button
            type="button"
            disabled={busy}
            onClick={() => void act("buttons", () => call("POST", `/v2/images/${id}/actions/deactivate`))}
          >
            Deactivate
          </button>
        )}
        {image.status === "deactivated" && (
          <button
            type="button"
            disabled={busy}
            onClick={() => void act("buttons", () => call("POST", `/v2/images/${id}/actions/reactivate`))}
          >
            Reactivate
          </button>
        )}
        {!confirming ? (
          <button type="button" class="danger" disabled={busy} onClick={() => setConfirming(true)}>
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
    </div>
  );
}

/** Waits for an operation a change started; its error, in words, if it failed. */
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
