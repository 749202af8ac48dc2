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
