// The console in a real headless Chromium against a real `tidings serve`.
// Driven by tests/e2e/test_console.py, which starts the server and says what it holds:
//   node e2e/console.e2e.mjs  (settings in the environment, see `need` below)
// Every step asserts what a person relies on; the first failure exits non-zero with why.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

function need(name) {
  const value = process.env[name];
  if (!value) throw new Error(`set ${name} (tests/e2e/test_console.py sets it)`);
  return value;
}

const BASE = need("CONSOLE_URL");
const EMAIL = need("CONSOLE_EMAIL");
const PASSWORD = need("CONSOLE_PASSWORD");
const HOSTILE = need("CONSOLE_HOSTILE_NAME");
const SHOTS = need("CONSOLE_SCREENSHOTS");
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
mkdirSync(SHOTS, { recursive: true });

const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

function check(condition, what) {
  if (!condition) throw new Error(`expected: ${what}`);
  console.log(`ok - ${what}`);
}

async function texts(locator) {
  return (await locator.allTextContents()).map((t) => t.trim());
}

const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
const problems = [];
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  // A CSP violation (an inline style or script) or an uncaught error is a failure.
  page.on("console", (message) => {
    if (message.type() === "error" && !/status of 401/.test(message.text())) problems.push(message.text());
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("dialog", async (dialog) => {
    problems.push(`a dialog opened: ${dialog.message()}`);
    await dialog.dismiss();
  });
  const shot = (name) => page.screenshot({ path: join(SHOTS, `${name}.png`) });

  const first = await page.goto(`${BASE}/workflows`);
  check(first.status() === 200, "a client route answers 200");
  check(/script-src 'self'/.test(first.headers()["content-security-policy"] ?? ""), "the page carries the CSP");
  await page.getByRole("heading", { name: "Log in to the console" }).waitFor();
  await shot("01-login");

  await page.getByLabel("Email").fill(EMAIL);
  await page.getByLabel("Password").fill(`${PASSWORD}-wrong`);
  await page.getByRole("button", { name: "Log in" }).click();
  const alert = page.getByRole("alert");
  await alert.waitFor();
  check((await alert.textContent()).includes("Wrong email or password"), "a wrong password says so");
  await shot("02-login-wrong-password");

  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("heading", { name: "Workflows" }).waitFor();
  // The heading shows while the list still loads: wait for its rows, not for the page.
  await page.getByRole("link", { name: "Abandoned cart recovery" }).waitFor();
  check(new URL(page.url()).pathname === "/workflows", "login keeps the address asked for");
  check((await page.getByTestId("person").textContent()).length > 0, "the header names the person");
  const names = await texts(page.locator("table tbody tr td:first-child"));
  check(names.includes("Abandoned cart recovery"), "the workflows list shows the deployed workflow");
  check(names.includes(HOSTILE), "a hostile workflow name shows as its text");
  check((await page.locator("img[src='x']").count()) === 0, "the hostile name made no element");
  await shot("03-workflows");

  await page.getByRole("link", { name: "Abandoned cart recovery" }).click();
  await page.getByTestId("node-big_cart").waitFor();
  const nodes = await page.locator(".react-flow__node").count();
  check(nodes === 11, `the canvas draws the trigger and the 10 steps (${nodes} nodes)`);
  for (const kind of ["trigger", "split", "wait", "send", "branch", "exit"]) {
    check((await page.locator(`.step--${kind}`).count()) > 0, `a ${kind} node has its own look`);
  }
  const labels = await texts(page.locator(".react-flow__edge-text"));
  for (const label of ["treated 90%", "holdout 10% (holdout)", "event.value >= 100", "else"]) {
    check(labels.includes(label), `the edge labelled "${label}"`);
  }
  check((await page.locator(".react-flow__minimap").count()) === 1, "the canvas has a minimap");
  await shot("04-canvas");

  await page.getByTestId("node-wait_1h").click();
  const panel = page.getByRole("complementary", { name: "Settings of wait_1h" });
  await panel.waitFor();
  check((await panel.locator("dt").allTextContents()).includes("for"), "the panel lists the step's fields");
  check((await panel.locator("dd").allTextContents()).includes("1h"), "the panel shows the wait's duration");
  await shot("05-canvas-panel");

  await page.getByRole("link", { name: "Contacts" }).click();
  await page.getByRole("heading", { name: "No contacts yet" }).waitFor();
  check(true, "the contacts page says how contacts arrive while there are none");
  await shot("06-contacts-empty");

  await page.getByRole("button", { name: "Log out" }).click();
  await page.getByRole("heading", { name: "Log in to the console" }).waitFor();
  await page.reload();
  await page.getByRole("heading", { name: "Log in to the console" }).waitFor();
  check(true, "logging out ends the session");

  check(problems.length === 0, `no console errors or CSP violations (${problems.join(" | ")})`);
} finally {
  await browser.close();
}
