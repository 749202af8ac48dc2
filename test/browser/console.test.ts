import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { type Browser, type Page, chromium } from "playwright-core";
import { type FileServer, startFileServer } from "../helpers/file-server.js";
import { image } from "../helpers/fixtures.js";
import { qcow2Corrupt } from "../helpers/hostile.js";
import { startSlowProxy } from "../helpers/net.js";
import { createOsImage, putData } from "../helpers/openstack.js";
import { CLI, type RunningServer, startServer, waitOperation } from "../helpers/server.js";

/** What the test reads of the page's globals (its own types have no DOM). */
interface BrowserGlobals {
  sessionStorage: { getItem(key: string): string | null };
}

/** Polls `check` until it holds (10 s at most). */
async function until(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The token the console keeps in the tab's session storage (null when signed out). */
const storedToken = (p: Page): Promise<string | null> =>
  p.evaluate(() => (globalThis as unknown as BrowserGlobals).sessionStorage.getItem("vitrine.token"));

/** Whether the page fits `width` pixels: nothing scrolls sideways. */
const fitsWidth = (p: Page, width: number): Promise<boolean> =>
  p.evaluate(
    (w) =>
      (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document
        .documentElement.scrollWidth <= w,
    width,
  );

/** Signs `p` in at `base` with `token` in `folder`, as a person types it, and waits for the list. */
async function signIn(p: Page, base: string, token: string, folder: string): Promise<void> {
  await p.goto(`${base}/console/`);
  await p.getByLabel("API token").fill(token);
  await p.getByLabel("Folder / project id").fill(folder);
  await p.getByRole("button", { name: "Sign in" }).click();
  await p.getByRole("heading", { name: `Images in ${folder}` }).waitFor();
}

/** Screenshots of each main screen, kept as the test's artifacts (and the README's pictures). */
const ARTIFACTS = path.join(process.cwd(), "test-artifacts", "console");

/**
 * The web console in a real browser: Debian's Chromium driven by playwright-core (nothing
 * downloads a browser), against `vitrine serve` with its real stores. Every scenario goes through
 * the page as a person would: typing, clicking, the keyboard.
 */
describe("the web console in Chromium", () => {
  let server: RunningServer;
  let files: FileServer;
  let browser: Browser;
  let page: Page;
  const folder = "console-folder";
  const dialogs: string[] = [];

  /** A fresh load of a console page (a hash change alone would keep the page's state). */
  const open = async (hash: string) => {
    await page.goto("about:blank");
    await page.goto(`${server.url}/console/${hash}`);
  };

  /** A READY Compute image of the folder made over the API from a qcow2; its Compute id. */
  const ready = async (name: string): Promise<string> => {
    const uri = files.serve(`${name}.qcow2`, image("qcow2", 8).path);
    const started = await server.request("POST", "/compute/v1/images", { folderId: folder, name, uri });
    assert.equal(started.status, 200, started.text);
    return (await waitOperation(server, started.body.id)).response.id as string;
  };

  const shot = async (name: string) => {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
  };

  before(async () => {
    files = await startFileServer();
    server = await startServer({ env: { VITRINE_IMPORT_ALLOWED_HOSTS: "127.0.0.1" } });
    browser = await chromium.launch({
      executablePath: "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    // A script that ran would show up here (alert) or as a page error.
    page.on("dialog", (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    page.on("pageerror", (err) => dialogs.push(`pageerror: ${err.message}`));
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    await files?.close();
  });

  test("served at /console with caching headers and a strict Content-Security-Policy", async () => {
    const res = await fetch(`${server.url}/console/`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("cache-control"), "no-cache");
    const csp = res.headers.get("content-security-policy") ?? "";
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'/);
    assert.ok(!csp.includes("unsafe-inline") && !csp.includes("unsafe-eval"));
    const html = await res.text();
    const script = /src="(\/console\/assets\/main-[A-Z0-9]+\.js)"/.exec(html)?.[1];
    assert.ok(script, html);
    const asset = await fetch(`${server.url}${script}`);
    assert.equal(asset.status, 200);
    assert.match(asset.headers.get("cache-control") ?? "", /max-age=31536000.*immutable/);
  });

  test("sign in with a token; a wrong token is told in words; the token never enters a URL", async () => {
    await page.goto(`${server.url}/console/`);
    await page.getByLabel("API token").fill("vt1.wrong");
    await page.getByLabel("Folder / project id").fill(folder);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByText("That token is not valid").waitFor();
    await shot("sign-in");
    await page.getByLabel("API token").fill(server.token);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: `Images in ${folder}` }).waitFor();
    assert.ok(!page.url().includes(server.token));
    assert.equal(await storedToken(page), server.token);
  });

  test("upload a qcow2: the progress bar reaches the end, the image is active with md5sum's MD5", async () => {
    const qcow2 = image("qcow2", 24);
    await page.getByRole("link", { name: "Create image" }).click();
    await page.getByLabel("Name", { exact: true }).fill("uploaded-in-browser");
    await page.getByLabel("File", { exact: true }).setInputFiles(qcow2.path);
    await page.getByRole("button", { name: "Create" }).click();
    await page.getByText("Uploaded and checked.").waitFor({ timeout: 60_000 });
    const bar = page.getByLabel("progress");
    assert.equal(await bar.getAttribute("value"), String(qcow2.size));
    assert.equal(await bar.getAttribute("max"), String(qcow2.size));
    assert.match((await page.locator(".progress-text").textContent()) ?? "", /of .*MiB/);
    assert.equal(await page.locator("code.md5").textContent(), qcow2.md5);
    assert.equal(await page.locator("p.done strong").textContent(), "active");
    await shot("upload");
  });

  test("a qcow2 named .img is read as qcow2 by its signature, not its file name", async () => {
    const cloud = path.join(
      fs.mkdtempSync(path.join(os.tmpdir(), "vitrine-console-img-")),
      "ubuntu-cloud.img",
    );
    fs.copyFileSync(image("qcow2", 8).path, cloud);
    await open("#/create");
    await page.getByLabel("Name", { exact: true }).fill("signature-read");
    await page.getByLabel("File", { exact: true }).setInputFiles(cloud);
    await page.getByRole("button", { name: "Create" }).click();
    await page.getByText("Uploaded and checked.").waitFor({ timeout: 60_000 });
    const listed = await server.request("GET", `/v2/images?name=signature-read`);
    assert.equal(listed.body.images[0].disk_format, "qcow2");
    assert.equal(listed.body.images[0].status, "active");
  });

  test("cancelling an upload leaves nothing, whenever the cancel comes", async () => {
    // Through a 2 MiB/s link, so the upload is still in flight when Cancel is clicked.
    const proxy = await startSlowProxy(server.url, 2 * 1024 * 1024);
    const slow = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    try {
      await signIn(slow, proxy.url, server.token, folder);
      await slow.getByRole("link", { name: "Create image" }).click();
      await slow.getByLabel("Name", { exact: true }).fill("cancelled-upload");
      await slow.getByLabel("File", { exact: true }).setInputFiles(image("raw", 32).path);
      await slow.getByRole("button", { name: "Create" }).click();
      await until(
        async () => Number((await slow.getByLabel("progress").getAttribute("value")) ?? 0) > 0,
        30_000,
      );
      await slow.getByRole("button", { name: "Cancel" }).click();
      await slow.getByText("The upload was cancelled").waitFor();
    } finally {
      await slow.close();
      await proxy.close();
    }
    await until(async () => {
      const listed = await server.request("GET", `/v2/images?name=cancelled-upload`);
      return listed.body.images.length === 0;
    });
    const compute = await server.request(
      "GET",
      `/compute/v1/images?folderId=${folder}&filter=name="cancelled-upload"`,
    );
    assert.deepEqual(compute.body.images ?? [], []);
  });

  test("a page reloaded mid-upload resumes from what the server stored when the file is picked again", async () => {
    // Through a 2 MiB/s link: 32 MiB take 16 s, the reload comes a few seconds in.
    const big = image("raw", 32);
    const proxy = await startSlowProxy(server.url, 2 * 1024 * 1024);
    const slow = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const progressOf = async () => Number((await slow.getByLabel("progress").getAttribute("value")) ?? 0);
    try {
      await signIn(slow, proxy.url, server.token, folder);
      const startUpload = async () => {
        await slow.getByRole("link", { name: "Create image" }).click();
        await slow.getByLabel("Name", { exact: true }).fill("resumed-in-browser");
        await slow.getByLabel("File", { exact: true }).setInputFiles(big.path);
        await slow.getByRole("button", { name: "Create" }).click();
      };
      await startUpload();
      await until(async () => proxy.forwarded() > 6 * 1024 * 1024, 30_000);
      await slow.reload();
      await startUpload();
      await slow.getByText("Resuming the upload of this file").waitFor();
      await until(async () => (await progressOf()) > 6 * 1024 * 1024, 30_000);
      await slow.screenshot({ path: path.join(ARTIFACTS, "upload-resumed.png"), fullPage: true });
      await slow.setViewportSize({ width: 420, height: 900 });
      await slow.screenshot({ path: path.join(ARTIFACTS, "upload-resumed-420.png"), fullPage: true });
      await slow.getByText("Uploaded and checked.").waitFor({ timeout: 60_000 });
      // What reached the server before the reload was kept: only the rest was sent again.
      assert.ok(proxy.forwarded() < big.size + 1024 * 1024, `${proxy.forwarded()} bytes for ${big.size}`);
    } finally {
      await slow.close();
      await proxy.close();
    }
    const listed = await server.request("GET", `/v2/images?name=resumed-in-browser`);
    assert.equal(listed.body.images.length, 1, "one image: the reload did not start another");
    assert.equal(listed.body.images[0].status, "active");
    assert.equal(listed.body.images[0].os_hash_value, big.sha512);
    // Out of the way of the folder's figures the next tests check.
    await server.request("DELETE", `/v2/images/${listed.body.images[0].id}`);
  });

  test("import from a local URL with live progress until active", async () => {
    const slow = image("qcow2", 16);
    const uri = files.serve("console-slow.qcow2", slow.path).replace("/files/", "/slow/");
    await page.getByRole("tab", { name: "Import from a URL" }).click();
    await page.getByLabel("Name", { exact: true }).fill("imported-in-browser");
    await page.getByLabel("URL").fill(uri);
    await page.getByRole("button", { name: "Create" }).click();
    // The bar moves while the server reads the URL (the operation's progress).
    await page.locator(".progress-text").filter({ hasText: / of / }).waitFor({ timeout: 30_000 });
    await shot("import-progress");
    await page.getByText("Imported.").waitFor({ timeout: 60_000 });
    assert.equal(await page.locator("code.md5").textContent(), slow.md5);
  });

  test("from another image, picked by name from a list; description, labels and family go with it", async () => {
    await page.getByRole("tab", { name: "From another image" }).click();
    await page.getByLabel("Name", { exact: true }).fill("picked-copy");
    await page.getByLabel("Source image").fill("imported-in");
    // The service offers the folder's ready images whose names hold what was typed.
    await until(
      async () =>
        (await page.locator("datalist#source-images option").first().getAttribute("value")) ===
        "imported-in-browser",
    );
    await page.getByLabel("Source image").fill("imported-in-browser");
    await page.getByLabel("Description").fill("a copy");
    await page.getByLabel("Labels").fill("env=dev");
    await page.getByLabel("Family").fill("copies");
    await page.getByRole("button", { name: "Create" }).click();
    await page.getByText("Imported.").waitFor({ timeout: 30_000 });
    const made = await server.request(
      "GET",
      `/compute/v1/images?folderId=${folder}&filter=name="picked-copy"`,
    );
    const copy = made.body.images[0];
    assert.equal(copy.description, "a copy");
    assert.deepEqual(copy.labels, { env: "dev" });
    assert.equal(copy.family, "copies");
  });

  test("a hostile image is refused, and the page says which rule refused it", async () => {
    await page.getByRole("tab", { name: "Upload a file" }).click();
    await page.getByLabel("Name", { exact: true }).fill("hostile");
    await page.getByLabel("File", { exact: true }).setInputFiles(qcow2Corrupt());
    await page.getByRole("button", { name: "Create" }).click();
    const alert = page.getByRole("alert");
    await alert.waitFor({ timeout: 30_000 });
    assert.match((await alert.textContent()) ?? "", /qcow2: the image is marked corrupt/);
    await shot("refused");
    // Nothing is left of it.
    const listed = await server.request("GET", "/v2/images?name=hostile");
    assert.deepEqual(listed.body.images, []);
  });

  test("the list filters, sorts and pages; a row opens by keyboard alone", async () => {
    for (let i = 0; i < 3; i++) {
      await createOsImage(server, {
        name: `listed-${i}`,
        owner: folder,
        disk_format: "raw",
        container_format: "bare",
        tags: [`t${i}`],
      });
    }
    await open("#/images");
    await page.getByRole("link", { name: "listed-0" }).waitFor();
    await shot("image-list");
    await page.getByRole("combobox", { name: "Status", exact: true }).selectOption("queued");
    // Only the queued ones: the uploaded (active) image leaves the table.
    await until(async () => (await page.getByRole("link", { name: "uploaded-in-browser" }).count()) === 0);
    await page.getByRole("link", { name: "listed-1" }).waitFor();
    await page.getByRole("textbox", { name: "Tag", exact: true }).fill("t2");
    await page.getByRole("textbox", { name: "Tag", exact: true }).press("Enter");
    await page.getByRole("textbox", { name: "Tag", exact: true }).blur();
    await until(async () => (await page.locator("table.images tbody tr").count()) === 1);
    // The filters live in the URL: the back button undoes the last one.
    assert.match(page.url(), /#\/images\?status=queued&tag=t2$/);
    await page.goBack();
    await until(async () => (await page.locator("table.images tbody tr").count()) === 3);
    assert.equal(await page.getByRole("textbox", { name: "Tag", exact: true }).inputValue(), "");
    await page.getByRole("combobox", { name: "Status", exact: true }).selectOption("");
    // Name search as one types: a substring, in any case, asked of the service.
    await page.getByLabel("Name contains").fill("ISTED-1");
    await until(async () => (await page.locator("table.images tbody tr").count()) === 1);
    await page.locator("p.total", { hasText: "1 image match" }).waitFor();
    await page.getByRole("link", { name: "listed-1" }).waitFor();
    assert.match(page.url(), /name=ISTED-1/);
    await page.getByLabel("Name contains").fill("no-such-image");
    await page.getByText("No image matches these filters.").waitFor();
    await page.getByRole("button", { name: "Clear the filters" }).click();
    await page.getByRole("link", { name: "listed-0" }).waitFor();
    // What only the Compute API knows, filtered on the server too: family, a label, the kind.
    await page.getByRole("textbox", { name: "Family", exact: true }).fill("copies");
    await page.getByRole("textbox", { name: "Family", exact: true }).press("Enter");
    await until(async () => (await page.locator("table.images tbody tr").count()) === 1);
    await page.getByRole("link", { name: "picked-copy" }).waitFor();
    await page.getByRole("textbox", { name: "Family", exact: true }).fill("");
    await page.getByRole("textbox", { name: "Family", exact: true }).press("Enter");
    await page.getByRole("textbox", { name: "Label", exact: true }).fill("env=dev");
    await page.getByRole("textbox", { name: "Label", exact: true }).press("Enter");
    await until(async () => (await page.locator("table.images tbody tr").count()) === 1);
    await page.getByRole("textbox", { name: "Label", exact: true }).fill("");
    await page.getByRole("textbox", { name: "Label", exact: true }).press("Enter");
    await page.getByRole("combobox", { name: "Kind", exact: true }).selectOption("baremetal");
    await page.getByText("No image matches these filters.").waitFor();
    await page.getByRole("button", { name: "Clear the filters" }).click();
    await page.getByRole("link", { name: "listed-0" }).waitFor();
    assert.match((await page.locator("p.total").textContent()) ?? "", /^\d+ images in the folder$/);
    // Columns one does not want are hidden, and stay hidden on the next visit.
    await page.getByText("Columns").click();
    await page.getByRole("checkbox", { name: "Virtual size" }).uncheck();
    assert.equal(await page.getByRole("columnheader", { name: "Virtual size" }).count(), 0);
    await open("#/images");
    await page.getByRole("link", { name: "listed-0" }).waitFor();
    assert.equal(await page.getByRole("columnheader", { name: "Virtual size" }).count(), 0);
    await page.getByRole("button", { name: /^Name/ }).click();
    await until(
      async () =>
        (await page.locator("table.images tbody tr a").first().textContent()) === "imported-in-browser",
    );

    // Keyboard only: Tab to the first image link, Enter opens it.
    await page.locator("body").click({ position: { x: 5, y: 5 } });
    for (let i = 0; i < 40; i++) {
      await page.keyboard.press("Tab");
      const focused = (await page.locator("table.images a:focus").count()) === 1;
      if (focused) break;
    }
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "imported-in-browser" }).waitFor();
  });

  test("bulk: several images deleted with one confirmation; an empty folder says how to start", async () => {
    await open("#/images");
    await page.getByRole("checkbox", { name: "Select listed-0" }).check();
    await page.getByRole("checkbox", { name: "Select listed-2" }).check();
    const bulk = page.getByRole("group", { name: "Selected images" });
    await bulk.getByText("2 images selected").waitFor();
    await bulk.getByRole("button", { name: "Delete" }).click();
    await bulk.getByRole("button", { name: "Yes, delete 2 images" }).click();
    await until(async () => (await page.getByRole("link", { name: "listed-0" }).count()) === 0);
    assert.equal(await page.getByRole("link", { name: "listed-2" }).count(), 0);
    await page.getByRole("link", { name: "listed-1" }).waitFor();

    // A folder with nothing in it: how to add the first image, not "nothing matches".
    const folderBox = page.getByLabel("Folder / project", { exact: true });
    await folderBox.fill("an-empty-folder");
    await folderBox.press("Enter");
    await folderBox.blur();
    await page.getByText("This folder has no images yet.").waitFor();
    await page.getByRole("link", { name: "Create the first one" }).waitFor();
    await shot("image-list-empty");
    await folderBox.fill(folder);
    await folderBox.blur();
    await page.getByRole("link", { name: "listed-1" }).waitFor();
    // Back to the image the next test reads.
    await page.getByRole("link", { name: "imported-in-browser" }).click();
    await page.getByRole("heading", { name: "imported-in-browser" }).waitFor();
  });

  test("an image's page: both dialects' fields, checksums to copy, operations; edit, share, delete", async () => {
    // Fields for people, in titled groups; one id with the other dialect's beside it.
    for (const group of ["General", "Data and checksums", "OS and hardware", "Sharing", "Lifecycle"]) {
      await page.getByRole("region", { name: group }).waitFor();
    }
    assert.equal(await page.title(), "imported-in-browser · Vitrine");
    assert.match((await page.locator(".secondary-id").textContent()) ?? "", /OpenStack ID [0-9a-f-]{36}/);
    // The raw documents of both dialects stay one click away.
    await page.getByText("All fields").click();
    await page.getByRole("heading", { name: "Compute view" }).waitFor();
    assert.ok(await page.getByRole("button", { name: "Copy MD5" }).isVisible());
    assert.ok(await page.getByRole("button", { name: "Copy SHA-512" }).isVisible());
    await page.locator("table.operations").getByText("Create image").waitFor();
    await shot("image-detail");

    const edit = page.getByRole("form", { name: "Edit" });
    await edit.getByLabel("Name").fill("renamed-in-browser");
    await edit.getByLabel("Labels").fill("env=test, team=img");
    await edit.getByRole("button", { name: "Save" }).click();
    await page.getByRole("heading", { name: "renamed-in-browser" }).waitFor();
    await page.locator("li.chip", { hasText: "env=test" }).waitFor();
    await page.locator("li.chip", { hasText: "team=img" }).waitFor();
    // A refusal in words, beside the form, and what was typed is still there to correct.
    await edit.getByLabel("Name").fill("Not A Valid Name!");
    await edit.getByLabel("Description").fill("typed before the refusal");
    await edit.getByRole("button", { name: "Save" }).click();
    assert.match((await edit.getByRole("alert").textContent()) ?? "", /name/i);
    assert.equal(await edit.getByLabel("Name").inputValue(), "Not A Valid Name!");
    assert.equal(await edit.getByLabel("Description").inputValue(), "typed before the refusal");
    await edit.getByLabel("Name").fill("renamed-in-browser");
    await edit.getByLabel("Description").fill("");

    const share = page.getByRole("form", { name: "Share" });
    await share.getByLabel("Subject").fill("system:allUsers");
    await share.getByLabel("Role").selectOption("viewer");
    await share.getByRole("button", { name: "Grant" }).click();
    await page.getByText("viewer: system:allUsers").waitFor();

    const members = page.getByRole("form", { name: "Share with a project" });
    await members.getByLabel("Project (member)").fill("partner-project");
    await members.getByRole("button", { name: "Add member" }).click();
    await page.getByText("partner-project (pending)").waitFor();

    // The bytes come down as a file, the MD5 md5sum would print.
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: "Download" }).click(),
    ]);
    const saved = await download.path();
    assert.equal(createHash("md5").update(fs.readFileSync(saved)).digest("hex"), image("qcow2", 16).md5);

    await page.getByRole("button", { name: "Deactivate" }).click();
    await page.getByRole("button", { name: "Reactivate" }).waitFor();
    assert.equal(
      (await server.request("GET", `/v2/images?name=renamed-in-browser`)).body.images[0].status,
      "deactivated",
    );
    await page.getByRole("button", { name: "Reactivate" }).click();
    await page.getByRole("button", { name: "Deactivate" }).waitFor();

    await page.getByRole("button", { name: "Delete" }).click();
    await page.getByRole("button", { name: "Keep it" }).click();
    await page.getByRole("button", { name: "Delete" }).click();
    await page.getByRole("button", { name: "Yes, delete" }).click();
    await page.getByRole("heading", { name: `Images in ${folder}` }).waitFor();
    await page.getByRole("link", { name: "listed-1" }).waitFor();
    assert.equal(await page.getByRole("link", { name: "renamed-in-browser" }).count(), 0);
  });

  test("names and properties that look like markup display as text; no script runs", async () => {
    const evil = "<img src=x onerror=alert(1)>";
    const created = await createOsImage(server, {
      name: evil,
      owner: folder,
      disk_format: "qcow2",
      container_format: "bare",
      evil_property: `<script>alert(2)</script>${evil}`,
      tags: [evil],
    });
    assert.equal((await putData(server, created.id, image("qcow2", 8).path)).status, 204);
    await open("#/images");
    await page.getByRole("link", { name: evil }).waitFor();
    await page.getByRole("link", { name: evil }).click();
    await page.getByRole("heading", { name: evil }).waitFor();
    await page.getByText(`<script>alert(2)</script>${evil}`, { exact: true }).waitFor();
    await page.locator("li.chip", { hasText: evil }).waitFor(); // the tag, as a chip of text
    assert.equal(await page.locator("img").count(), 0, "no element was made from the text");
    assert.deepEqual(dialogs, []);
  });

  test("the folder's operations: a running import shows its progress and is cancelled from the page", async () => {
    const slow = image("qcow2", 16);
    const uri = files.serve("console-cancel.qcow2", slow.path).replace("/files/", "/slow/");
    const started = await server.request("POST", "/compute/v1/images", {
      folderId: folder,
      name: "to-cancel",
      uri,
    });
    assert.equal(started.status, 200, started.text);
    await open("#/operations");
    const row = page.locator("table.operations tr", { hasText: started.body.id });
    await row.getByText(/running \(/).waitFor({ timeout: 20_000 });
    await shot("operations");
    await row.getByRole("button", { name: "Cancel" }).click();
    // A cancellation is not a failure; the image is named, who started it is shown.
    await row.getByText("cancelled", { exact: true }).waitFor({ timeout: 20_000 });
    assert.equal(await row.locator("td.error").count(), 0);
    await page.getByLabel("State").selectOption("cancelled");
    assert.equal(await page.locator("table.operations tbody tr", { hasText: started.body.id }).count(), 1);
    assert.equal(
      await page.locator("table.operations tbody tr", { hasText: "done" }).count(),
      0,
      "the filter keeps only cancelled ones",
    );
    await page.getByLabel("State").selectOption("");
    const created = page.locator("table.operations tbody tr", { hasText: "Create image" }).first();
    assert.ok(((await created.locator("td").nth(2).textContent()) ?? "").length > 0, "who started it");
  });

  test("the overview: images and bytes of the folder, and the bytes saved by sharing data", async () => {
    // Two images from one upload: the second costs no bytes.
    const source = await server.request("GET", `/v2/images?name=uploaded-in-browser`);
    const uploaded = source.body.images[0];
    const copy = await server.request("POST", "/compute/v1/images", {
      folderId: folder,
      name: "shared-copy",
      imageId: uploaded.id,
    });
    assert.equal(copy.status, 200, copy.text);
    await until(async () => (await server.request("GET", `/operations/${copy.body.id}`)).body.done === true);
    const summary = await server.request("GET", `/compute/v1/images:summary?folderId=${folder}`);
    const figures = summary.body.folders[0];
    assert.equal(figures.savedBytes, String(uploaded.size));
    // A size limit the folder is near, to see its bar warn; the others unlimited.
    const limited = await server.request("PATCH", `/vitrine/v1/quotas/${folder}`, {
      limits: {
        image_size_total: String(Math.ceil(Number(figures.storedBytes) / 0.9)),
        image_count_total: 50,
      },
    });
    assert.equal(limited.status, 200, limited.text);
    await open("#/overview");
    const sizeQuota = page.locator(".quota-list li", { hasText: "Image bytes" });
    await sizeQuota.locator("meter").waitFor();
    assert.match((await sizeQuota.textContent()) ?? "", /of [\d.]+ MiB \(9\d %\)/);
    assert.equal(await sizeQuota.getAttribute("class"), "high", "near the limit: the figure warns");
    assert.match(
      (await page.locator(".quota-list li", { hasText: "Images receiving data" }).textContent()) ?? "",
      /0 · no limit/,
    );
    assert.ok(await page.getByRole("meter", { name: "Images" }).isVisible(), "each bar is named");
    await page.getByText("Data that several images of the folder share counts once.").waitFor();
    // The admin's table of folders says how much of its size quota each one uses.
    await page
      .locator("table.folders tr", { hasText: folder })
      .getByText(/9\d % of [\d.]+ MiB/)
      .waitFor();
    await page.locator("dd.saved").filter({ hasText: /MiB/ }).waitFor();
    // 1376256 bytes as the console words it; the admin's table names the folder too.
    assert.equal(
      await page.locator("dd.saved").textContent(),
      `${(Number(uploaded.size) / 1024 ** 2).toFixed(2)} MiB`,
    );
    await page.locator("table.folders").getByText(folder).waitFor();
    // Charts (Chart.js, bundled): by format and kind, per week, operations per hour — each
    // with its figures in words beside the canvas.
    for (const title of [
      "Images by format and kind",
      "Bytes by format and kind (MiB)",
      "Images and bytes added per week",
      "Operations per hour, last 24 hours",
    ]) {
      await page.locator("figure.chart figcaption", { hasText: title }).waitFor();
    }
    assert.equal(await page.locator("figure.chart canvas").count(), 4);
    assert.match(
      (await page
        .locator("figure.chart", { hasText: "Operations per hour" })
        .locator(".chart-summary")
        .textContent()) ?? "",
      /\d+ done or running, \d+ failed, [1-9]\d* cancelled/,
    );
    await shot("overview");
    await server.request("PATCH", `/vitrine/v1/quotas/${folder}`, {
      limits: { image_size_total: null, image_count_total: null },
    });
  });

  test("a failed image says why at the top and offers no edit or share forms", async () => {
    const hostile = files.serve("console-hostile.qcow2", qcow2Corrupt());
    const started = await server.request("POST", "/compute/v1/images", {
      folderId: folder,
      name: "refused-in-console",
      uri: hostile,
    });
    assert.equal(started.status, 200, started.text);
    await until(
      async () => (await server.request("GET", `/operations/${started.body.id}`)).body.done === true,
    );
    const uuid = (await server.request("GET", "/v2/images?name=refused-in-console")).body.images[0].id;
    await open(`#/images/${uuid}`);
    await page.getByRole("heading", { name: "refused-in-console" }).waitFor();
    await page
      .locator("p.failure", { hasText: /This image failed and cannot be used: .*marked corrupt/ })
      .waitFor();
    assert.equal(await page.getByRole("form", { name: "Edit" }).count(), 0);
    assert.equal(await page.getByRole("form", { name: "Share" }).count(), 0);
    assert.ok(await page.getByRole("button", { name: "Delete" }).isVisible(), "it can still be deleted");
    await shot("image-failed");
  });

  test("a deprecated image: a badge in the list and on its page, what it means, its replacement's link, its last use", async () => {
    const made = [await ready("life-old"), await ready("life-new")];
    const deprecated = await server.request("POST", `/compute/v1/images/${made[0]}:deprecate`, {
      state: "DEPRECATED",
      replacement: made[1],
      obsoleteAt: "2031-01-01T00:00:00Z",
    });
    assert.equal(deprecated.status, 200, deprecated.text);
    const [oldUuid, newUuid] = await Promise.all(
      made.map(async (id) => (await server.request("GET", `/v2/images/${id}`)).body.id as string),
    );
    await open("#/images");
    const row = page.getByRole("row", { name: /life-old/ });
    await row.getByText("deprecated", { exact: true }).waitFor();
    await open(`#/images/${oldUuid}`);
    await page.getByRole("heading", { name: "life-old" }).waitFor();
    const note = page.getByRole("note");
    await note.getByText(/is deprecated: it still works, but it is no longer a family's latest/).waitFor();
    await shot("image-deprecated");
    await note.getByRole("link", { name: "its replacement" }).click();
    await page.getByRole("heading", { name: "life-new" }).waitFor();
    assert.ok(page.url().endsWith(`#/images/${newUuid}`), page.url());
    assert.equal(await page.getByRole("note").count(), 0, "the replacement is not deprecated");
  });

  test("deprecation set from the image's page; the recycle bin lists a deleted image, restores it and purges it", async () => {
    const id = await ready("binned");
    const uuid = (await server.request("GET", `/v2/images/${id}`)).body.id as string;
    await open(`#/images/${uuid}`);
    const form = page.getByRole("form", { name: "Deprecation" });
    await form.getByLabel("State").selectOption("OBSOLETE");
    await form.getByLabel("Deleted on").fill("2031-06-01");
    await form.getByRole("button", { name: "Save" }).click();
    await page
      .getByRole("note")
      .getByText(/is obsolete/)
      .waitFor();
    const shown = (await server.request("GET", `/compute/v1/images/${id}`)).body.deprecated;
    assert.deepEqual(shown, { state: "OBSOLETE", deleteAt: "2031-06-01T00:00:00Z" });
    await form.getByLabel("State").selectOption("ACTIVE");
    await form.getByLabel("Deleted on").fill("");
    await form.getByRole("button", { name: "Save" }).click();
    await until(
      async () => (await server.request("GET", `/compute/v1/images/${id}`)).body.deprecated === undefined,
    );

    const retention = await server.request("PATCH", `/vitrine/v1/folders/${folder}/recycleBin`, {
      retention: "86400s",
    });
    assert.equal(retention.status, 200, retention.text);
    const del = await server.request("DELETE", `/compute/v1/images/${id}`);
    await until(async () => (await server.request("GET", `/operations/${del.body.id}`)).body.done === true);
    await open("#/bin");
    await page.getByRole("heading", { name: "Recycle bin" }).waitFor();
    await page.getByText(`Deleted images of ${folder} are kept 1 day, then purged.`).waitFor();
    const row = page.getByRole("row", { name: /binned/ });
    await row.waitFor();
    await shot("recycle-bin");
    await row.getByRole("button", { name: "Restore" }).click();
    await page.getByRole("status").getByText("Restored binned").waitFor();
    assert.equal((await server.request("GET", `/compute/v1/images/${id}`)).body.status, "READY");

    const again = await server.request("DELETE", `/compute/v1/images/${id}`);
    await until(async () => (await server.request("GET", `/operations/${again.body.id}`)).body.done === true);
    await page.reload();
    await row.getByRole("button", { name: "Purge" }).click();
    await row.getByRole("button", { name: "Purge for good" }).click();
    await page.getByText("The recycle bin is empty.").waitFor();
    await server.request("PATCH", `/vitrine/v1/folders/${folder}/recycleBin`, { retention: null });
  });

  test("export from the image's page: the converted copy opens, saying where it came from", async () => {
    const id = await ready("exp-src");
    await open(`#/images/${id}`);
    const form = page.getByRole("form", { name: "Export" });
    await form.waitFor();
    assert.deepEqual(await form.getByLabel("Format").locator("option").allTextContents(), [
      "vmdk",
      "vhd",
      "vhdx",
      "raw",
    ]);
    await form.getByLabel("Format").selectOption("vhdx");
    await form.getByLabel("Name of the copy").fill("exp-vhdx");
    await form.getByRole("button", { name: "Export" }).click();
    await page.getByRole("heading", { name: "exp-vhdx" }).waitFor();
    await page.getByText(/^qcow2, .*MD5 [0-9a-f]{32}$/).waitFor();
    await page.getByRole("link", { name: id }).waitFor();
    await page.getByText("vhdx in bare").waitFor();
    await shot("exported");
    const copies = await server.request(
      "GET",
      `/compute/v1/images?folderId=${folder}&filter=${encodeURIComponent('name="exp-vhdx"')}`,
    );
    for (const img of [...copies.body.images, { id }]) {
      const del = await server.request("DELETE", `/compute/v1/images/${img.id}`);
      await until(async () => (await server.request("GET", `/operations/${del.body.id}`)).body.done === true);
    }
  });

  test("at 420 px: no sideways scrolling on the image page; each view has its title and focused heading", async () => {
    const uuid = (await server.request("GET", "/v2/images?name=uploaded-in-browser")).body.images[0].id;
    await page.setViewportSize({ width: 420, height: 900 });
    try {
      await open(`#/images/${uuid}`);
      await page.getByRole("heading", { name: "uploaded-in-browser" }).waitFor();
      assert.ok(await fitsWidth(page, 420), "the page fits 420 px");
      await shot("image-detail-420");
      await open("#/images");
      await page.getByRole("heading", { name: `Images in ${folder}` }).waitFor();
      await page.getByRole("button", { name: "Menu" }).click();
      await page
        .getByRole("navigation", { name: "Main" })
        .getByRole("link", { name: "Operations" })
        .waitFor();
      await shot("image-list-420");
      await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Operations" }).click();
      await page.getByRole("heading", { name: `Operations in ${folder}` }).waitFor();
      assert.equal(
        await page.getByRole("navigation", { name: "Main" }).isVisible(),
        false,
        "the menu folds again",
      );
      // Every view fits (wide tables scroll inside themselves, not the page), and a selection's
      // bulk actions and the filters are reachable.
      for (const [view, heading] of [
        ["#/images", `Images in ${folder}`],
        ["#/create", `Create an image in ${folder}`],
        ["#/operations", `Operations in ${folder}`],
        ["#/overview", "Overview"],
        ["#/bin", `Recycle bin of ${folder}`],
      ] as const) {
        await open(view);
        await page.getByRole("heading", { name: heading, exact: true }).waitFor();
        await page.waitForTimeout(300);
        assert.ok(await fitsWidth(page, 420), `${view} fits 420 px`);
        await shot(`${view.slice(2)}-420`);
      }
      await open("#/images");
      await page.getByRole("checkbox", { name: "Select listed-1" }).check();
      await page.getByRole("group", { name: "Selected images" }).getByText("1 image selected").waitFor();
      assert.ok(
        await page
          .getByRole("group", { name: "Selected images" })
          .getByRole("button", { name: "Delete" })
          .isVisible(),
      );
      await page.getByRole("checkbox", { name: "Select listed-1" }).uncheck();
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
    }
    await open("#/operations");
    await page.getByRole("heading", { name: `Operations in ${folder}` }).waitFor();
    assert.equal(await page.title(), "Operations · Vitrine");
    await until(async () =>
      page.evaluate(
        () =>
          (globalThis as unknown as { document: { activeElement: { tagName: string } | null } }).document
            .activeElement?.tagName === "H1",
      ),
    );
    const icon = await fetch(`${server.url}/console/assets/favicon.svg`);
    assert.equal(icon.status, 200);
    assert.match(icon.headers.get("content-type") ?? "", /svg/);
  });

  /** The admin CLI on the server's data directory (while it runs). */
  const admin = (...args: string[]) =>
    execFileSync(process.execPath, [CLI, ...args, "--data-dir", server.dataDir], { encoding: "utf8" }).trim();

  /** A second page signed in as a new subject holding `role` on the folder. */
  const signedInAs = async (name: string, role: string) => {
    const subject = admin("subject", "create", "--name", name);
    admin("folder", "bind", "--folder", folder, "--subject", subject, "--role", role);
    const token = admin("token", "create", "--subject", subject, "--project", folder);
    const other = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await signIn(other, server.url, token, folder);
    return { page: other, token };
  };

  test("a viewer is offered only what it may do, and told why not", async () => {
    const uuid = (await server.request("GET", "/v2/images?name=uploaded-in-browser")).body.images[0].id;
    const { page: viewer } = await signedInAs("viewer-in-console", "viewer");
    try {
      await viewer.goto(`${server.url}/console/#/images/${uuid}`);
      await viewer.getByRole("heading", { name: "uploaded-in-browser" }).waitFor();
      await viewer.getByText("Editing: needs the editor role on the image or its folder").waitFor();
      assert.equal(await viewer.getByRole("form", { name: "Edit" }).count(), 0);
      assert.equal(await viewer.getByRole("form", { name: "Share with a project" }).count(), 0);
      const remove = viewer.getByRole("button", { name: "Delete" });
      assert.equal(await remove.isDisabled(), true);
      assert.equal(await remove.getAttribute("title"), "needs the editor role on the image or its folder");
      assert.equal(await viewer.getByRole("button", { name: "Download" }).isDisabled(), false);
    } finally {
      await viewer.close();
    }
  });

  test("a token revoked while the console is open sends the user to sign in, saying why", async () => {
    const { page: other, token } = await signedInAs("revoked-in-console", "viewer");
    try {
      admin("token", "revoke", token);
      // The operations page asks every 2 s: its first request after the service stops trusting the
      // token (its cache is 5 s) ends the session, and the page says why.
      await other.getByRole("link", { name: "Operations" }).click();
      await other
        .getByText("Your session ended (the token was revoked or expired): sign in again.")
        .waitFor({ timeout: 20_000 });
      await other.getByLabel("API token").waitFor();
      assert.equal(await storedToken(other), null);
    } finally {
      await other.close();
    }
  });

  test("every view passes an axe-core accessibility check with no serious or critical violation", async () => {
    const axe = fs.readFileSync(path.join(process.cwd(), "node_modules", "axe-core", "axe.min.js"), "utf8");
    const uuid = (await server.request("GET", "/v2/images?name=uploaded-in-browser")).body.images[0].id;
    const found: string[] = [];
    for (const [view, ready] of [
      ["#/images", `Images in ${folder}`],
      [`#/images/${uuid}`, "uploaded-in-browser"],
      ["#/create", `Create an image in ${folder}`],
      ["#/operations", `Operations in ${folder}`],
      ["#/overview", "Overview"],
      ["#/bin", `Recycle bin of ${folder}`],
    ] as const) {
      await open(view);
      await page.getByRole("heading", { name: ready, exact: true }).waitFor();
      await page.waitForTimeout(300); // late data (names, charts) in place
      // Evaluated through the DevTools protocol: the console's CSP (no inline script) still holds.
      await page.evaluate(axe);
      const violations = await page.evaluate(async () => {
        const run = (globalThis as unknown as { axe: { run(): Promise<{ violations: any[] }> } }).axe.run;
        const result = await run();
        return result.violations
          .filter((v) => v.impact === "serious" || v.impact === "critical")
          .map(
            (v) =>
              `${v.id} (${v.impact}): ${v.nodes
                .map((n: any) => n.target.join(" "))
                .slice(0, 3)
                .join(", ")}`,
          );
      });
      found.push(...violations.map((v) => `${view}: ${v}`));
    }
    assert.deepEqual(found, []);
  });

  test("a new tab of the same browser session is signed in; sign-out signs every tab out", async () => {
    const session = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const first = await session.newPage();
      await signIn(first, server.url, server.token, folder);
      const tab = await session.newPage();
      await tab.goto(`${server.url}/console/#/operations`);
      // Taken from the open tab (same origin, same browser session), not typed again.
      await tab.getByRole("heading", { name: `Operations in ${folder}` }).waitFor();
      await first.getByRole("button", { name: "Sign out" }).click();
      await tab.getByLabel("API token").waitFor();
      assert.equal(await storedToken(tab), null);
    } finally {
      await session.close();
    }
  });

  test("sign-out forgets the token", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByLabel("API token").waitFor();
    assert.equal(await storedToken(page), null);
  });
});
