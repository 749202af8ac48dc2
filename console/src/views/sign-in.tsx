import { useEffect, useState } from "preact/hooks";
import { ApiError, call, consoleConfig, keystoneToken, session } from "../api.js";
import { ErrorNote } from "./parts.js";

/** Sign in with a Vitrine token, or in Keystone mode with a Keystone user, password and project. */
export function SignIn({ onSignedIn, note }: { onSignedIn: () => void; note?: string | null }) {
  const [keystone, setKeystone] = useState(false);
  const [mode, setMode] = useState<"token" | "keystone">("token");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    void consoleConfig().then((c) => setKeystone(c.keystone));
  }, []);

  const submit = async (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.target as HTMLFormElement);
    const field = (name: string) => String(form.get(name) ?? "").trim();
    setBusy(true);
    setError(null);
    try {
      if (mode === "keystone") {
        const { token, projectId } = await keystoneToken(field("user"), field("password"), field("project"));
        session.signIn(token, field("folder") || projectId);
      } else {
        session.signIn(field("token"), field("folder"));
      }
      // A token is checked once here, so a typo is told at once rather than on every page.
      await call("GET", "/v2/images?limit=1");
      onSignedIn();
    } catch (err) {
      session.signOut();
      setError(
        err instanceof ApiError && err.status === 401
          ? new ApiError("That token is not valid", 401, err.requestId)
          : err,
      );
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="sign-in">
      <h1>Vitrine</h1>
      {note && (
        <p class="note" role="status">
          {note}
        </p>
      )}
      {keystone && (
        <div role="tablist" class="tabs">
          <button type="button" role="tab" aria-selected={mode === "token"} onClick={() => setMode("token")}>
            Token
          </button>
          <button
            type="button"
            role="tab"
            aria-selected={mode === "keystone"}
            onClick={() => setMode("keystone")}
          >
            Keystone
          </button>
        </div>
      )}
      <form onSubmit={submit}>
        {mode === "token" ? (
          <label>
            API token
            <input name="token" type="password" autocomplete="off" required />
          </label>
        ) : (
          <>
            <label>
              User name
              <input name="user" autocomplete="username" required />
            </label>
            <label>
              Password
              <input name="password" type="password" autocomplete="current-password" required />
            </label>
            <label>
              Project
              <input name="project" required />
            </label>
          </>
        )}
        <label>
          Folder / project id{mode === "keystone" ? " (default: the project's)" : ""}
          <input name="folder" required={mode === "token"} />
        </label>
        <button type="submit" disabled={busy}>
          Sign in
        </button>
        <ErrorNote error={error} />
      </form>
    </main>
  );
}
