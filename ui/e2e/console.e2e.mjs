// The console in a real headless Chromium against a real `tidings serve`.
// Driven by tests/e2e/test_console.py, which starts the server and says what it holds:
//   node e2e/console.e2e.mjs  (settings in the environment, see `need` below)
// Every step asserts what a person relies on; the first failure exits non-zero with why.
import { join } from "node:path";
import { check, launch, need as needFrom, texts } from "./harness.mjs";

const need = (name) => needFrom(name, "tests/e2e/test_console.py");

const BASE = need("CONSOLE_URL");
const EMAIL = need("CONSOLE_EMAIL");
const PASSWORD = need("CONSOLE_PASSWORD");
const HOSTILE = need("CONSOLE_HOSTILE_NAME");
const SHOTS = need("CONSOLE_SCREENSHOTS");
const WRITE_KEY = need("CONSOLE_WRITE_KEY");
const VIEWER_EMAIL = need("CONSOLE_VIEWER_EMAIL");

const browser = await launch(SHOTS);
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

  // The builder: a small abandoned-cart flow from an empty canvas, by drag and drop.
  await page.getByRole("link", { name: "Workflows" }).click();
  await page.getByLabel("New workflow key").fill("cart_builder");
  await page.getByRole("button", { name: "New workflow" }).click();
  await page.getByTestId("palette-wait").waitFor();
  check(new URL(page.url()).pathname === "/workflows/cart_builder/edit", "a new workflow opens in the builder");
  check((await page.locator(".react-flow__node").count()) === 1, "an empty canvas holds only the trigger");
  await shot("07-builder-empty");

  await page.getByTestId("node-__trigger").click();
  await page.getByLabel("Event").fill(HOSTILE);
  await page.getByTestId("node-__trigger").filter({ hasText: HOSTILE }).waitFor();
  check((await page.locator("img[src='x']").count()) === 0, "a hostile event name shows on the canvas as text");
  await page.getByLabel("Event").fill("cart_abandoned");
  const canvas = page.getByTestId("builder-canvas");
  await page.getByTestId("palette-wait").dragTo(canvas, { targetPosition: { x: 320, y: 260 } });
  await page.getByTestId("node-wait").waitFor();
  const problem = page.getByTestId("problem-wait");
  await problem.waitFor();
  check((await problem.textContent()).includes("a wait needs exactly one of"), "the validator's problem shows on its node");
  await page.getByRole("tab", { name: /Problems/ }).click();
  const listed = page.getByRole("list", { name: "Problems" }).getByRole("button").filter({ hasText: "a wait needs" });
  const all = await texts(page.getByRole("list", { name: "Problems" }).getByRole("listitem"));
  check((await listed.count()) === 1, `the problem is in the list too (${all.join(" | ")})`);
  await shot("08-builder-problem");
  await listed.first().click();
  const form = page.getByRole("complementary", { name: "Edit wait" });
  await form.waitFor();
  check(true, "clicking a listed problem opens its step");
  await form.getByLabel("Wait for").fill("1h");
  await problem.waitFor({ state: "detached" });
  check(true, "giving the wait a duration clears its problem");

  // Select the wait itself (a click on its node) so the drop goes after it, whatever the
  // panels did to the selection meanwhile.
  await page.getByTestId("node-wait").click();
  await page.getByRole("complementary", { name: "Edit wait" }).waitFor();
  await page.getByTestId("palette-send").dragTo(canvas, { targetPosition: { x: 320, y: 420 } });
  await page.getByTestId("node-send").waitFor();
  const lines = await page.locator(".react-flow__edge").evaluateAll((els) => els.map((e) => e.dataset.testid));
  check(
    lines.length === 3 && lines.some((id) => id.startsWith("rf__edge-wait->send#")),
    `trigger → wait → send → end are connected (${lines.join(", ")})`,
  );
  await page.getByTestId("save-state").filter({ hasText: "All changes saved" }).waitFor();
  check(true, "the draft saves itself");

  // Adding on a line: click it, then drop a step; Ctrl+Z takes it away again.
  const waitToSend = page.locator('[data-testid^="rf__edge-wait->send#"]').first();
  try {
    await waitToSend.waitFor({ state: "attached", timeout: 20_000 });
  } catch {
    const now = await page.locator(".react-flow__edge").evaluateAll((els) => els.map((e) => e.dataset.testid));
    const nodes = await page.locator(".react-flow__node").evaluateAll((els) => els.map((e) => e.dataset.testid));
    throw new Error(`the wait → send line is gone after the save; lines: ${now.join(", ")}; nodes: ${nodes.join(", ")}`);
  }
  await waitToSend.dispatchEvent("click");
  await page.getByText("Drop a step to add it on this line.").waitFor();
  await page.getByTestId("palette-update").dragTo(canvas, { targetPosition: { x: 60, y: 300 } });
  await page.getByTestId("node-update").waitFor();
  // React Flow draws a new node's lines once it has measured the node, a frame or more
  // after the node appears: wait for them (up to 10 s) before counting.
  await page
    .waitForFunction(() => document.querySelectorAll(".react-flow__edge").length === 4, null, { timeout: 10_000 })
    .catch(() => {});
  const withUpdate = await page.locator(".react-flow__edge").count();
  check(withUpdate === 4, `a step dropped on a line goes between its ends (${withUpdate} lines)`);
  await page.locator(".react-flow__pane").click({ position: { x: 40, y: 40 } });
  await page.keyboard.press("Control+z");
  await page.getByTestId("node-update").waitFor({ state: "detached" });
  check(true, "Ctrl+Z takes it away again");
  await page.getByTestId("node-wait").click();
  await page.keyboard.press("Control+c");
  await page.keyboard.press("Control+v");
  await page.getByTestId("node-wait_2").waitFor();
  check(true, "Ctrl+C, Ctrl+V pastes a copy under a new id");
  await page.keyboard.press("Control+z");
  await page.getByTestId("node-wait_2").waitFor({ state: "detached" });

  // The YAML view: the canvas's spec, positions included; editing it changes the canvas.
  await page.getByRole("tab", { name: "YAML" }).click();
  const yamlView = page.getByLabel("Workflow YAML");
  const source = await yamlView.inputValue();
  check(source.includes("event: cart_abandoned") && source.includes("layout:"), "the YAML view shows the spec and its layout");
  await yamlView.fill(source.replace("for: 1h", "for: 2h"));
  await page.getByTestId("node-wait").filter({ hasText: "for 2h" }).waitFor();
  check(true, "editing the YAML redraws the canvas");
  await page.locator(".react-flow__pane").click({ position: { x: 40, y: 40 } });
  await page.keyboard.press("Control+z");
  await page.getByTestId("node-wait").filter({ hasText: "for 1h" }).waitFor();
  check(true, "Ctrl+Z undoes the last change");
  await page.keyboard.press("Control+Shift+z");
  await page.getByTestId("node-wait").filter({ hasText: "for 2h" }).waitFor();
  check(true, "Ctrl+Shift+Z redoes it");
  await shot("09-builder-yaml");

  await page.getByRole("button", { name: "Publish…" }).click();
  const summary = page.getByRole("region", { name: "Publish summary" });
  await summary.waitFor();
  check((await summary.textContent()).includes("the validator accepts it"), "publishing first shows a summary");
  const dryRun = summary.getByTestId("publish-dry-run");
  await dryRun.waitFor();
  check(/Of \d+ contacts .* would enter/.test(await dryRun.textContent()), "the summary dry-runs the draft on the workspace's contacts");
  await shot("10-builder-publish-summary");
  await summary.getByRole("button", { name: "Publish now" }).click();
  await page.getByText("Published as version 1.").waitFor();
  check(true, "publishing makes version 1");
  await shot("10-builder-published");

  // A second version: the summary shows what changes, as a diff from the live version.
  await page.getByRole("tab", { name: "YAML" }).click();
  await yamlView.fill((await yamlView.inputValue()).replace("for: 2h", "for: 30m"));
  await page.getByTestId("node-wait").filter({ hasText: "for 30m" }).waitFor();
  await page.getByRole("button", { name: "Publish…" }).click();
  const diff = page.getByTestId("publish-diff");
  await diff.waitFor();
  const changes = await diff.textContent();
  check(/^-\s+for: 2h$/m.test(changes) && /^\+\s+for: 30m$/m.test(changes), "the summary shows the diff from the live version");
  await shot("10b-builder-publish-diff");
  await summary.getByRole("button", { name: "Publish now" }).click();
  await page.getByText("Published as version 2.").waitFor();
  check(true, "publishing again makes version 2");

  const tracked = await page.request.post(`${BASE}/v1/track`, {
    data: { writeKey: WRITE_KEY, userId: "shopper-1", event: "cart_abandoned", properties: { value: 42 } },
  });
  check(tracked.ok(), "an event goes in through /v1/track");
  await page.getByRole("link", { name: "View live" }).click();
  const entered = page.getByTestId("figures-__trigger");
  for (let i = 0; i < 40 && !(await entered.isVisible()); i++) {
    await page.waitForTimeout(250);
    if (i % 8 === 7) await page.reload();
  }
  check((await entered.textContent()).includes("1 entered"), "the trigger's number moves: 1 entered");
  await shot("11-published-figures");
  await page.getByRole("button", { name: "Pause" }).click();
  await page.locator(".pill--paused").waitFor();
  await page.getByRole("button", { name: "Resume" }).click();
  await page.locator(".pill--active").waitFor();
  check(true, "pause and resume from the workflow's page");

  // A third version while the shopper waits in version 2: the wait is renamed, so the move
  // plan says the shopper would stay until the old step is mapped to the new one; then the
  // publish and the move go in one request.
  await page.goto(`${BASE}/workflows/cart_builder/edit`);
  await page.getByRole("tab", { name: "YAML" }).click();
  await yamlView.fill((await yamlView.inputValue()).replace("for: 30m", "for: 45m"));
  await page.getByTestId("node-wait").filter({ hasText: "for 45m" }).waitFor();
  await page.getByTestId("node-wait").click();
  await page.getByRole("complementary", { name: "Edit wait" }).getByLabel("Step id").fill("pause");
  await page.getByTestId("node-pause").waitFor();
  await page.getByRole("complementary", { name: "Edit pause" }).waitFor();
  check(true, "renaming a step keeps its form open under the new id");

  // The goal and the workflow's own policies, in their form, checked by the server as typed.
  await page.getByRole("tab", { name: "Goal & policies" }).click();
  const settings = page.getByRole("complementary", { name: "Goal and policies" });
  await settings.getByRole("button", { name: "Set a goal" }).click();
  await settings.getByLabel("Reached when this event arrives").fill("order_completed");
  await settings.getByRole("combobox", { name: "Only when" }).fill("event.total >= 20");
  await settings.getByLabel("Within").fill("3d");
  await settings.getByRole("button", { name: "Add a cap" }).click();
  const cap = settings.getByRole("group", { name: "Cap 1" });
  await cap.getByLabel("Per").fill("zz");
  const capProblem = cap.getByText(/is not a duration/);
  await capProblem.waitFor();
  check(true, `the server's problem shows at the cap's field (${await capProblem.textContent()})`);
  await shot("11a-builder-goal-policies");
  await cap.getByLabel("Per").fill("1w");
  await capProblem.waitFor({ state: "detached" });
  await settings.getByRole("button", { name: "Add quiet hours" }).click();
  await page.getByTestId("node-send").click();
  await page.getByRole("complementary", { name: "Edit send" }).getByLabel("While the policies hold it back").selectOption("hold");
  await page.getByRole("tab", { name: "YAML" }).click();
  const written = await yamlView.inputValue();
  for (const line of ["event: order_completed", "where: event.total >= 20", "within: 3d", "per: 1w", 'start: "21:00"', "on_deferral: hold"]) {
    check(written.includes(line), `the YAML has ${line}`);
  }
  await page.getByRole("tab", { name: /Problems/ }).click();
  await page.getByText("No problems: the validator accepts this workflow").waitFor();

  const requests = [];
  page.on("request", (request) => {
    if (request.method() === "POST" && /\/api\/workflows\/cart_builder\/(publish|migration\/apply)$/.test(request.url())) {
      requests.push({ url: new URL(request.url()).pathname, body: request.postData() });
    }
  });
  await page.getByRole("button", { name: "Publish…" }).click();
  const plan = summary.getByTestId("move-plan");
  await plan.waitFor();
  check((await plan.textContent()).includes("2waitstays1"), `the plan says the shopper at the renamed step would stay (${await plan.textContent()})`);
  check(await summary.getByRole("radio", { name: "Move them" }).isDisabled(), "nobody to move yet: moving is not offered");
  await summary.getByRole("combobox", { name: "Move contacts at wait to" }).selectOption("pause");
  await plan.filter({ hasText: "2waitpause1" }).waitFor();
  check(true, "mapping the old step to the new one updates the plan: the shopper would move to pause");
  check(await summary.getByRole("radio", { name: "Leave them on their version (default)" }).isChecked(), "leaving them is the default");
  await summary.getByRole("radio", { name: "Move them" }).check();
  await shot("11b-builder-move-plan");
  await summary.getByRole("button", { name: "Publish and move them" }).click();
  await page.getByText(/Published as version 3\. Moved 1 waiting contact onto it/).waitFor();
  check(true, "publishing with 'move them' moves the waiting contact onto version 3");
  check(
    requests.length === 1 && requests[0].url.endsWith("/publish") && JSON.parse(requests[0].body ?? "{}").map?.wait === "pause",
    `publish and move are one request, with the map (${JSON.stringify(requests)})`,
  );

  // A viewer may look, but the server refuses their publish.
  const viewer = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await viewer.goto(`${BASE}/workflows/cart_builder/edit`);
  await viewer.getByLabel("Email").fill(VIEWER_EMAIL);
  await viewer.getByLabel("Password").fill(PASSWORD);
  await viewer.getByRole("button", { name: "Log in" }).click();
  await viewer.getByTestId("node-send").waitFor();
  await viewer.getByRole("button", { name: "Publish…" }).click();
  await viewer.getByRole("button", { name: "Publish now" }).click();
  const refused = viewer.getByRole("alert");
  await refused.waitFor();
  check((await refused.textContent()).includes("needs the editor role"), `a viewer's publish is refused by the server (${await refused.textContent()})`);
  await viewer.screenshot({ path: join(SHOTS, "12-viewer-refused.png") });
  await viewer.close();

  await page.getByRole("button", { name: "Log out" }).click();
  await page.getByRole("heading", { name: "Log in to the console" }).waitFor();
  await page.reload();
  await page.getByRole("heading", { name: "Log in to the console" }).waitFor();
  check(true, "logging out ends the session");

  check(problems.length === 0, `no console errors or CSP violations (${problems.join(" | ")})`);
} finally {
  await browser.close();
}
