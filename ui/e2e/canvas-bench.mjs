// Times opening a workflow on the canvas in headless Chromium: from navigation to every node
// drawn. Run by bench/console_canvas.py, which prepares the server and the workflow.
import { chromium } from "playwright-core";

const BASE = process.env.CONSOLE_URL;
const KEY = process.env.CONSOLE_WORKFLOW;
const NODES = Number(process.env.CONSOLE_NODES);
const RUNS = Number(process.env.CONSOLE_RUNS ?? "7");
if (!BASE || !KEY || !NODES) throw new Error("set CONSOLE_URL, CONSOLE_WORKFLOW, CONSOLE_NODES");

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(`${BASE}/workflows`);
  await page.getByLabel("Email").fill(process.env.CONSOLE_EMAIL ?? "");
  await page.getByLabel("Password").fill(process.env.CONSOLE_PASSWORD ?? "");
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("heading", { name: "Workflows" }).waitFor();
  const timed = async (path) => {
    const times = [];
    for (let run = 0; run < RUNS; run += 1) {
      // A full page load each time: the session check, the spec fetch, layout and first paint.
      const started = Date.now();
      await page.goto(`${BASE}${path}`);
      await page.waitForFunction((n) => document.querySelectorAll(".react-flow__node").length >= n, NODES, {
        polling: "raf",
        timeout: 60_000,
      });
      await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => done(null))));
      times.push(Date.now() - started);
    }
    return times.sort((a, b) => a - b);
  };
  const times = await timed(`/workflows/${KEY}`);
  // The builder: the same workflow, editable, with every node drawn and validated on open.
  const builder = await timed(`/workflows/${KEY}/edit`);
  const median = (list) => list[Math.floor(list.length / 2)];
  console.log(
    JSON.stringify({ runs: times, median_ms: median(times), builder_runs: builder, builder_median_ms: median(builder) }),
  );
} finally {
  await browser.close();
}
