import * as tus from "tus-js-client";
/**
 * The console's only way to the service: the public REST APIs, with the signed-in token. What the
 * console does, a token holder can do with curl. Errors come back as ApiError in words.
 */

// The APIs' documents are read field by field as shown, not modelled: any keeps the views short.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = Record<string, any>;

const TOKEN_KEY = "vitrine.token";
const FOLDER_KEY = "vitrine.folder";

/** The token lives in this tab's session storage only: never in a URL, gone with the tab or on sign-out. */
export const session = {
  get token(): string | null {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  get folder(): string {
    return sessionStorage.getItem(FOLDER_KEY) ?? "";
  },
  signIn(token: string, folder: string): void {
    sessionStorage.setItem(TOKEN_KEY, token);
    sessionStorage.setItem(FOLDER_KEY, folder);
  },
  setFolder(folder: string): void {
    sessionStorage.setItem(FOLDER_KEY, folder);
  },
  signOut(): void {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(FOLDER_KEY);
  },
};

type SessionMessage =
  { type: "ask" } | { type: "session"; token: string; folder: string } | { type: "signed-out" };

/**
 * Sign-in shared by the tabs of one browser session: a new tab asks the open ones (a
 * BroadcastChannel reaches only this origin's pages in this browser profile) and takes their
 * session; signing out in one tab signs every tab out. The token still never enters a URL or
 * persistent storage. Returns the function that leaves the channel.
 */
export function shareSessionAcrossTabs(handlers: { signedIn(): void; signedOut(): void }): () => void {
  if (typeof BroadcastChannel === "undefined") return () => undefined;
  const channel = new BroadcastChannel("vitrine.session");
  channel.onmessage = (event: MessageEvent<SessionMessage>) => {
    const message = event.data;
    if (message.type === "ask" && session.token !== null) {
      channel.postMessage({ type: "session", token: session.token, folder: session.folder });
    } else if (message.type === "session" && session.token === null) {
      session.signIn(message.token, message.folder);
      handlers.signedIn();
    } else if (message.type === "signed-out" && session.token !== null) {
      session.signOut();
      handlers.signedOut();
    }
  };
  if (session.token === null) channel.postMessage({ type: "ask" });
  signOutEverywhere = () => channel.postMessage({ type: "signed-out" });
  return () => {
    signOutEverywhere = () => undefined;
    channel.close();
  };
}

/** Tells the other tabs this session was signed out (set while the channel is open). */
export let signOutEverywhere: () => void = () => undefined;

/** Dispatched on the window when the service stops accepting the session's token. */
export const SESSION_ENDED = "vitrine:session-ended";

/** A refusal, in the dialect's own words, with the request id to quote to an operator. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly requestId: string | null,
  ) {
    super(message);
  }
}

/** Why a status was refused, in words, when the body said nothing better. */
const STATUS_WORDS: Record<number, string> = {
  400: "The request was refused as invalid",
  401: "Your session is not valid any more; sign in again",
  403: "You are not allowed to do that",
  404: "Not found (or not visible to you)",
  409: "It changed meanwhile or is in a state that does not allow this",
  413: "Too large, or the image storage is full",
  429: "Too many attempts; wait a moment",
  500: "The service failed; try again later",
  503: "The service is unavailable; try again later",
};

async function failure(res: Response): Promise<ApiError> {
  let message = "";
  try {
    const body = (await res.json()) as { message?: unknown; title?: unknown };
    if (typeof body.message === "string") message = body.message;
    else if (typeof body.title === "string") message = body.title;
  } catch {
    // not JSON
  }
  const requestId = res.headers.get("x-request-id") ?? res.headers.get("x-openstack-request-id");
  return new ApiError(message || STATUS_WORDS[res.status] || `HTTP ${res.status}`, res.status, requestId);
}

function headers(extra: Record<string, string> = {}): Record<string, string> {
  const token = session.token;
  return { accept: "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}), ...extra };
}

export async function call<T = Json>(
  method: string,
  path: string,
  body?: unknown,
  contentType = "application/json",
): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers: headers(body === undefined ? {} : { "content-type": contentType }),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError("The service cannot be reached", 0, null);
  }
  if (!res.ok) {
    // The token was revoked or expired while the console was open: back to sign-in.
    if (res.status === 401 && session.token !== null) {
      session.signOut();
      dispatchEvent(new Event(SESSION_ENDED));
    }
    throw await failure(res);
  }
  if (res.status === 204) return {} as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : {}) as T;
}

export const query = (params: Record<string, string | number | undefined>): string => {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : "";
};

/** What the server tells the console about itself (whether Keystone sign-in is offered). */
export async function consoleConfig(): Promise<{ keystone: boolean }> {
  const res = await fetch("/console/config.json");
  return res.ok ? ((await res.json()) as { keystone: boolean }) : { keystone: false };
}

/** Keystone sign-in through the service (browsers cannot reach Keystone across origins). */
export async function keystoneToken(
  user: string,
  password: string,
  project: string,
): Promise<{ token: string; projectId: string }> {
  const res = await fetch("/console/keystone/tokens", {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify({ user, password, project }),
  });
  if (!res.ok) throw await failure(res);
  return (await res.json()) as { token: string; projectId: string };
}

/**
 * An image's bytes, fetched with the token (a plain link cannot carry it); refusals in words, as
 * every call's. The browser holds them until saved (the CLI streams large images to disk).
 */
export async function downloadFile(imageId: string): Promise<Blob> {
  const res = await fetch(`/v2/images/${encodeURIComponent(imageId)}/file`, { headers: headers() });
  if (!res.ok) throw await failure(res);
  return res.blob();
}

export interface UploadProgress {
  loaded: number;
  total: number;
  startedAt: number;
  /** Where this run started: what the server had stored when it resumed (0 for a new upload). */
  from: number;
}

/** An upload this browser started and may resume after a reload (the file picked again). */
export interface PendingUpload {
  imageId: string;
  /** The tus upload's URL (README "Resumable transfers"). */
  uploadUrl: string;
}

/** Uploads the browser may resume, by file (name, size, last change) and folder. */
const PENDING_KEY = (file: File, folder: string) =>
  `vitrine.upload:${folder}:${file.name}:${file.size}:${file.lastModified}`;

export function pendingUpload(file: File, folder: string): PendingUpload | null {
  try {
    return JSON.parse(localStorage.getItem(PENDING_KEY(file, folder)) ?? "null") as PendingUpload | null;
  } catch {
    return null;
  }
}

export function forgetUpload(file: File, folder: string): void {
  localStorage.removeItem(PENDING_KEY(file, folder));
}

/** What a resumable upload's request costs at most when it is cut (and what one request carries). */
const UPLOAD_CHUNK_BYTES = 64 * 1024 * 1024;
const RESUME_DELAYS_MS = [0, 1000, 3000, 5000, 10_000, 20_000, 30_000, 60_000];

/**
 * Uploads a file from the browser over tus (the browser reads it from disk as it sends): a cut
 * connection or a server restart resumes by itself from what the server stored, and a page
 * reloaded mid-way resumes when the same file is picked again (`resume`, remembered here per
 * file and folder). Reports progress; `signal` aborts it and gives the upload up.
 */
export function uploadFile(
  target: { imageId: string; folder: string; resume: PendingUpload | null },
  file: File,
  onProgress: (p: UploadProgress) => void,
  signal: AbortSignal,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const startedAt = performance.now();
    let from: number | undefined;
    const upload = new tus.Upload(file, {
      endpoint: `${location.origin}/v2/images/${encodeURIComponent(target.imageId)}/file`,
      ...(target.resume ? { uploadUrl: target.resume.uploadUrl } : {}),
      headers: headers(),
      chunkSize: UPLOAD_CHUNK_BYTES,
      retryDelays: RESUME_DELAYS_MS,
      storeFingerprintForResuming: false,
      onUploadUrlAvailable: () => {
        const pending: PendingUpload = { imageId: target.imageId, uploadUrl: upload.url! };
        localStorage.setItem(PENDING_KEY(file, target.folder), JSON.stringify(pending));
      },
      onProgress: (loaded, total) => {
        // A resumed upload's first report is about the offset the server stored: speed counts from there.
        from ??= target.resume ? loaded : 0;
        onProgress({ loaded, total, startedAt, from });
      },
      onSuccess: () => {
        forgetUpload(file, target.folder);
        resolve();
      },
      onError: (err) => {
        const res = (err as tus.DetailedError).originalResponse;
        if (!res) return reject(new ApiError("The upload was interrupted", 0, null));
        let message = "";
        try {
          message = (JSON.parse(res.getBody()) as { message?: string }).message ?? "";
        } catch {
          // not JSON
        }
        const status = res.getStatus();
        reject(
          new ApiError(
            message || STATUS_WORDS[status] || `HTTP ${status}`,
            status,
            res.getHeader("x-openstack-request-id") ?? null,
          ),
        );
      },
    });
    signal.addEventListener("abort", () => {
      forgetUpload(file, target.folder);
      void upload.abort(true).catch(() => undefined);
      reject(new ApiError("The upload was cancelled", 0, null));
    });
    upload.start();
  });
}

/** Follows an operation until it is done, telling each state seen (with the import's progress). */
export async function followOperation(
  id: string,
  onUpdate: (op: Json) => void,
  signal?: AbortSignal,
): Promise<Json> {
  let pause = 250;
  for (;;) {
    const op = await call("GET", `/operations/${encodeURIComponent(id)}`);
    onUpdate(op);
    if (op.done) return op;
    if (signal?.aborted) return op;
    await new Promise((r) => setTimeout(r, pause));
    pause = Math.min(pause * 1.5, 1000);
  }
}
