import type { Json } from "../api.js";
import { useState } from "preact/hooks";
import { ApiError } from "../api.js";

/** A refusal in words, with the request id when the service gave one. Text only: never markup. */
export function ErrorNote({ error }: { error: unknown }) {
  if (!error) return null;
  const message = error instanceof Error ? error.message : String(error);
  const requestId = error instanceof ApiError ? error.requestId : null;
  return (
    <p class="error" role="alert">
      {message}
      {requestId && <span class="request-id"> (request id {requestId})</span>}
    </p>
  );
}

/** A value with a button that copies it (checksums). */
export function Copyable({ value, label }: { value: string; label: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <span class="copyable">
      <code>{value}</code>
      <button
        type="button"
        aria-label={`Copy ${label}`}
        onClick={() => {
          void navigator.clipboard?.writeText(value).then(() => setCopied(true));
        }}
      >
        {copied ? "Copied" : "Copy"}
      </button>
    </span>
  );
}

/** A progress bar with its figures in words (bytes, speed, time left). */
export function Progress({ value, max, text }: { value: number; max: number | null; text: string }) {
  return (
    <div class="progress">
      <progress value={max ? value : undefined} max={max ?? undefined} aria-label="progress" />
      <span class="progress-text">{text}</span>
    </div>
  );
}

/** A labelled select of [value, text] options. */
export function Choice(props: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  options: [string, string][];
}) {
  return (
    <label>
      {props.label}
      <select value={props.value} onChange={(e) => props.onChange((e.target as HTMLSelectElement).value)}>
        {props.options.map(([value, text]) => (
          <option value={value}>{text}</option>
        ))}
      </select>
    </label>
  );
}

/**
 * A typed filter, the user's until committed (Enter, or leaving the box): the URL's value
 * replaces what is typed only when that value changes (the back button), so a re-render after
 * another filter does not wipe it.
 */
export function CommittedInput(props: {
  label: string;
  value: string;
  onCommit: (value: string) => void;
  placeholder?: string;
}) {
  return (
    <label>
      {props.label}
      <input
        key={`${props.label}:${props.value}`}
        defaultValue={props.value}
        placeholder={props.placeholder}
        onChange={(e) => props.onCommit((e.target as HTMLInputElement).value)}
      />
    </label>
  );
}

/** DEPRECATED or OBSOLETE beside the status (README "Lifecycle"); nothing for an active image. */
export function DeprecationBadge({ image }: { image: Json }) {
  const state = String(image.deprecation_state ?? "ACTIVE").toLowerCase();
  if (state === "active") return null;
  return (
    <span class={`status status-${state}`} title={`This image is ${state}`}>
      {state}
    </span>
  );
}
