// Builds the web console (console/) into dist/console: one hashed script and stylesheet (cached
// for ever by browsers) and index.html naming them. Part of `npm run build`; offline, esbuild only.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..");
const out = path.join(root, "dist", "console");
fs.rmSync(out, { recursive: true, force: true });
const result = await build({
  entryPoints: [
    path.join(root, "console", "src", "main.tsx"),
    path.join(root, "console", "src", "style.css"),
  ],
  bundle: true,
  inject: [path.join(root, "console", "src", "buffer-global.ts")],
  minify: true,
  format: "esm",
  target: "es2022",
  jsx: "automatic",
  jsxImportSource: "preact",
  entryNames: "[name]-[hash]",
  outdir: path.join(out, "assets"),
  metafile: true,
  logLevel: "warning",
});
const built = Object.keys(result.metafile.outputs).map((f) => path.basename(f));
const js = built.find((f) => f.endsWith(".js"));
const css = built.find((f) => f.endsWith(".css"));
const html = fs
  .readFileSync(path.join(root, "console", "index.html"), "utf8")
  .replace("{{js}}", js)
  .replace("{{css}}", css);
fs.writeFileSync(path.join(out, "index.html"), html);
// The tab's icon, served beside the bundle (same origin: the console's CSP allows it).
fs.copyFileSync(path.join(root, "console", "favicon.svg"), path.join(out, "assets", "favicon.svg"));
