import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { session } from "./api.js";
import { CreateImage } from "./views/create-image.js";
import { ImageDetail } from "./views/image-detail.js";
import { ImageList } from "./views/image-list.js";
import { OperationList } from "./views/operation-list.js";
import { Overview } from "./views/overview.js";
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

function App() {
  const [signedIn, setSignedIn] = useState(session.token !== null);
  const [folder, setFolder] = useState(session.folder);
  const route = useRoute();
  if (!signedIn) {
    return (
      <SignIn
        onSignedIn={() => {
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
        <nav>
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
        ) : (
          <ImageList folder={folder} />
        )}
      </main>
    </div>
  );
}

render(<App />, document.getElementById("app")!);
