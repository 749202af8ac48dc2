import { chromium } from "playwright-core";

/** Debian's Chromium (the benchmark installs nothing itself for it; `apt install chromium`). */
export const CHROMIUM = "/usr/bin/chromium";

/**
 * Milliseconds from navigating to the console's image list (signed in, folder "big") to its
 * table showing rows, each in a fresh browser context: no cache, no session carried over.
 */
export async function consoleFirstLoads(url: string, token: string, runs: number): Promise<number[]> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-sync",
    ],
  });
  try {
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const context = await browser.newContext();
      // Signed in as the console keeps it: the tab's session storage.
      await context.addInitScript({
        content: `sessionStorage.setItem("vitrine.token", ${JSON.stringify(token)}); sessionStorage.setItem("vitrine.folder", "big");`,
      });
      const page = await context.newPage();
      const started = performance.now();
      await page.goto(`${url}/console/#/images`);
      await page.waitForSelector("table.images tbody tr a");
      times.push(performance.now() - started);
      await context.close();
    }
    return times;
  } finally {
    await browser.close();
  }
}
