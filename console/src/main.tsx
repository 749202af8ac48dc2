import { render } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { SESSION_ENDED, session, shareSessionAcrossTabs, signOutEverywhere } from "./api.js";
import { CreateImage } from "./views/create-image.js";
import { ImageDetail } from "./views/image-detail.js";
import { ImageList } from "./views/image-list.js";
import { OperationList } from "./views/operation-list.js";
import { Overview } from "./views/overview.js";
import { RecycleBin } from "./views/recycle-bin.js";
import { SignIn } from "./views/sign-in.js";

/** Where the console is: `#/images`, `#/images/<id>`, `#/create`. The token is never in it. */
function useRoute(): string {
  const [route, setRoute] = useState(location.hash.slice(1) || "/images");
  useEffect(() => {
    const onChange = () => setRoute(location.hash.slice(1) || "/images");
    addEventListener("hashchange", onChange);
    return () => removeEventListener("hashchange", onChange);
  }, []);
  return route;
}

/** Each view's title (an image's page sets its own, with the image's name). */
const TITLES: Record<string, string> = {
  "/images": "Images",
  "/create": "Create image",
  "/operations": "Operations",
  "/overview": "Overview",
  "/bin": "Recycle bin",
};

function App() {
  const [signedIn, setSignedIn] = useState(session.token !== null);
  const [folder, setFolder] = useState(session.folder);
  const [ended, setEnded] = useState(false);
  const [menuOpen, setMenuOpen] = useState(false);
  const fullRoute = useRoute();
  // The path picks the view; the query (`#/images?name=web`) is the view's own state.
  const [route, routeQuery = ""] = fullRoute.split("?") as [string, string?];
  useEffect(
    () =>
      shareSessionAcrossTabs({
        signedIn: () => {
          setSignedIn(true);
          setFolder(session.folder);
        },
        signedOut: () => setSignedIn(false),
      }),
    [],
  );
  const signedInNow = useRef(signedIn);
  signedInNow.current = signedIn;
  useEffect(() => {
    // Only a session that was in use ends (a token refused at sign-in is the form's to say).
    const onEnded = () => {
      if (!signedInNow.current) return;
      setEnded(true);
      setSignedIn(false);
    };
    addEventListener(SESSION_ENDED, onEnded);
    return () => removeEventListener(SESSION_ENDED, onEnded);
  }, []);
  // A new view: its title in the tab, and focus on its heading (where a screen reader starts).
  useEffect(() => {
    if (!signedIn) {
      document.title = "Sign in · Vitrine";
      return;
    }
    setMenuOpen(false); // a link in the folded menu was followed
    const title = TITLES[route];
    if (title) document.title = `${title} · Vitrine`;
    const timer = setTimeout(() => document.querySelector<HTMLElement>("main h1")?.focus(), 0);
    return () => clearTimeout(timer);
  }, [route, signedIn]);
  if (!signedIn) {
    return (
      <SignIn
        note={ended ? "Your session ended (the token was revoked or expired): sign in again." : null}
        onSignedIn={() => {
          setEnded(false);
          setSignedIn(true);
          setFolder(session.folder);
        }}
      />
    );
  }
  const detail = /^\/images\/([^/]+)$/.exec(route);
  return (
    <div class="app">
      <header>
        <a class="brand" href="#/images">
          Vitrine
        </a>
        <button
          type="button"
          class="menu"
          aria-expanded={menuOpen}
          aria-controls="main-nav"
          onClick={() => setMenuOpen(!menuOpen)}
        >
          Menu
        </button>
        <nav
          id="main-nav"
          class={menuOpen ? "open" : undefined}
          aria-label="Main"
          onClick={() => setMenuOpen(false)}
        >
          <a href="#/images" aria-current={route === "/images" ? "page" : undefined}>
            Images
          </a>
          <a href="#/create" aria-current={route === "/create" ? "page" : undefined}>
            Create image
          </a>
          <a href="#/operations" aria-current={route === "/operations" ? "page" : undefined}>
            Operations
          </a>
          <a href="#/overview" aria-current={route === "/overview" ? "page" : undefined}>
            Overview
          </a>
          <a href="#/bin" aria-current={route === "/bin" ? "page" : undefined}>
            Recycle bin
          </a>
        </nav>
        <label class="folder">
          Folder / project
          <input
            value={folder}
            onChange={(e) => {
              const value = (e.target as HTMLInputElement).value.trim();
              session.setFolder(value);
              setFolder(value);
            }}
          />
        </label>
        <button
          type="button"
          onClick={() => {
            session.signOut();
            signOutEverywhere();
            setSignedIn(false);
            location.hash = "";
          }}
        >
          Sign out
        </button>
      </header>
      <main>
        {detail ? (
          <ImageDetail id={decodeURIComponent(detail[1]!)} />
        ) : route === "/create" ? (
          <CreateImage folder={folder} />
        ) : route === "/operations" ? (
          <OperationList folder={folder} />
        ) : route === "/overview" ? (
          <Overview folder={folder} />
        ) : route === "/bin" ? (
          <RecycleBin folder={folder} />
        ) : (
          <ImageList folder={folder} params={new URLSearchParams(routeQuery)} />
        )}
      </main>
    </div>
  );
}

render(<App />, document.getElementById("app")!);
