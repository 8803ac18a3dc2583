// What the console's end-to-end scripts share: their settings, Chromium, and `check`, which
// prints each step a person relies on and stops at the first one that fails, with why.
import { mkdirSync } from "node:fs";
import { chromium } from "playwright-core";

/** A setting from the environment; `driver` is the pytest file that sets it. */
export function need(name, driver) {
  const value = process.env[name];
  if (!value) throw new Error(`set ${name} (${driver} sets it)`);
  return value;
}

export function check(condition, what) {
  if (!condition) throw new Error(`expected: ${what}`);
  console.log(`ok - ${what}`);
}

export async function texts(locator) {
  return (await locator.allTextContents()).map((t) => t.trim());
}

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

/** Debian's headless Chromium (or $CHROMIUM), with the screenshots folder made. */
export async function launch(screenshots) {
  mkdirSync(screenshots, { recursive: true });
  const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";
  return chromium.launch({ executablePath, args: ARGS, headless: true });
}
