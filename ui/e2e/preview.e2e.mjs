// The template preview and test send in the builder, in a real headless Chromium against a
// real `tidings serve` that mails through a loopback SMTP server.
// Driven by tests/e2e/test_console_preview.py, which starts both and checks what arrived.
import { join } from "node:path";
import { check, launch, need as needFrom } from "./harness.mjs";

const need = (name) => needFrom(name, "tests/e2e/test_console_preview.py");

const BASE = need("CONSOLE_URL");
const EMAIL = need("CONSOLE_EMAIL");
const PASSWORD = need("CONSOLE_PASSWORD");
const HOSTILE = need("CONSOLE_HOSTILE_NAME");
const SHOTS = need("CONSOLE_SCREENSHOTS");
const CONTACT = need("CONSOLE_CONTACT_EMAIL");
const TEST_TO = need("CONSOLE_TEST_TO");

const browser = await launch(SHOTS);
const problems = [];
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  // A 422 is the server's answer to the unfinished condition typed below, shown at its field.
  // The script in the template below is blocked by the preview frame's sandbox: Chromium
  // says so on the console, which is the expected outcome, not a problem.
  page.on("console", (message) => {
    if (message.type() !== "error") return;
    if (/Blocked script execution|Refused to execute inline script/.test(message.text())) return;
    if (!/status of (401|422)/.test(message.text())) problems.push(message.text());
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("dialog", async (dialog) => {
    problems.push(`a dialog opened: ${dialog.message()}`);
    await dialog.dismiss();
  });
  const shot = (name) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

  await page.goto(`${BASE}/workflows/cart_recovery/edit`);
  await page.getByLabel("Email").fill(EMAIL);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByTestId("node-reminder").click();
  const panel = page.getByRole("complementary", { name: "Edit reminder" });
  await panel.waitFor();
  const frame = panel.getByTitle("Rendered email");
  await frame.waitFor();
  check((await frame.getAttribute("sandbox")) === "", "the email shows in a sandboxed frame");
  const subject = panel.getByTestId("preview-subject");
  check((await subject.textContent()) === "You left something behind, friend", "the server renders the subject for a blank contact");

  await panel.getByRole("searchbox").fill(CONTACT.slice(0, 3));
  await panel.getByRole("button", { name: CONTACT }).click();
  await panel.getByLabel("Sample event (JSON)").fill('{"cart_id": "c42", "value": 30, "items": [{"name": "Teapot"}]}');
  await panel.getByLabel("Subject").fill("For {{ contact.first_name }}: {{ event.items[0].name }}");
  await subject.filter({ hasText: `For ${HOSTILE}: Teapot` }).waitFor();
  check(true, "the preview follows the text as typed, for the chosen contact and event");
  check((await page.locator("img[src='x']").count()) === 0, "a contact's hostile name shows as text");
  const inside = page.frameLocator("iframe[title='Rendered email']");
  await inside.getByText("Teapot").waitFor();
  check((await inside.locator("a[href='https://fernhill.example/cart/c42']").count()) === 1, "the frame shows the rendered HTML");
  check((await frame.evaluate((el) => el.getBoundingClientRect().width)) === 640, "desktop width: 640px");
  await shot("p1-preview-desktop");
  await panel.getByRole("button", { name: "Mobile" }).click();
  check((await frame.evaluate((el) => el.getBoundingClientRect().width)) === 375, "mobile width: 375px");
  await shot("p2-preview-mobile");

  await panel.getByLabel("Send a test to").fill(TEST_TO);
  await panel.getByRole("button", { name: "Send test" }).click();
  const sent = panel.getByRole("status");
  await sent.waitFor();
  check((await sent.textContent()).includes(`Sent to ${TEST_TO}`), `the test send is confirmed (${await sent.textContent()})`);
  await shot("p3-test-sent");

  // The email's own styles show in the preview (inline and in <style>), and a script in a
  // template never runs: the frame is the server's preview page, under its own policy.
  const html = panel.getByLabel("HTML");
  const styled =
    '<p id="inline" style="color: rgb(1, 2, 3)">Inline</p><style>#sheet { margin-left: 7px }</style><p id="sheet">Sheet</p>' +
    "<script>document.body.insertAdjacentHTML('beforeend', '<b id=ran>ran</b>'); parent.postMessage('ran', '*')</script>";
  await html.fill((await html.inputValue()) + styled);
  await inside.locator("#sheet").waitFor();
  const color = await inside.locator("#inline").evaluate((el) => getComputedStyle(el).color);
  check(color === "rgb(1, 2, 3)", `an inline style="…" is applied in the preview (${color})`);
  const margin = await inside.locator("#sheet").evaluate((el) => getComputedStyle(el).marginLeft);
  check(margin === "7px", `a <style> in the email is applied in the preview (${margin})`);
  check((await inside.locator("#ran").count()) === 0, "a <script> in the template does not run in the preview");
  const src = await frame.getAttribute("src");
  check(/^\/preview-frames\/[\w-]+$/.test(src ?? ""), `the frame loads the server's preview page (${src})`);
  const served = await page.request.get(`${BASE}${src}`);
  const policy = served.headers()["content-security-policy"] ?? "";
  check(policy.includes("sandbox") && !policy.includes("script-src") && served.headers()["cache-control"] === "no-store",
    `the preview page has its own strict, uncached policy (${policy})`);
  check(!(await page.evaluate(() => document.title)).includes("ran"), "the console page is untouched by the template's script");
  await shot("p3b-preview-styles");

  // Completion and a live count in a branch's condition.
  await page.getByTestId("node-big_cart").click();
  const branch = page.getByRole("complementary", { name: "Edit big_cart" });
  await branch.waitFor();
  const condition = branch.getByRole("combobox", { name: "Condition 1" });
  await branch.getByText("No live count: the condition reads the event").waitFor();
  check(true, "a condition on the event says it has no live count");
  await condition.fill("");
  await condition.pressSequentially("contact.first");
  const option = branch.getByRole("option", { name: "contact.first_name" });
  await option.waitFor();
  check(true, "typing a field offers the names the workspace's contacts carry");
  await option.click();
  check((await condition.inputValue()) === "contact.first_name", "choosing a suggestion writes it");
  await condition.pressSequentially(" is not null");
  const count = branch.getByTestId("condition-count");
  await count.filter({ hasText: "1 contact match now" }).waitFor();
  check(true, "the live count says how many contacts match now");
  await condition.fill("contact.first_name ==");
  await branch.getByRole("alert").filter({ hasText: "column" }).waitFor();
  check(true, `the server's parser error shows at the field (${await branch.getByRole("alert").textContent()})`);
  await shot("p4-condition-count");

  // The newer step features open on the canvas, and the YAML view gives back the same spec.
  await page.goto(`${BASE}/workflows/webinar/edit`);
  await page.getByTestId("node-hold").waitFor();
  check((await page.locator(".step--suppress").count()) >= 1, "a suppress step has its own look");
  // Zoom to fit leaves the minimap a corner of its own: it covers no node, the last one included.
  await page.waitForFunction(() => !document.querySelector(".react-flow__viewport")?.closest(".react-flow")?.classList.contains("dragging"));
  const mini = await page.locator(".react-flow__minimap").boundingBox();
  const covered = [];
  for (const node of await page.locator(".react-flow__node").all()) {
    const box = await node.boundingBox();
    if (box && mini && box.x < mini.x + mini.width && box.x + box.width > mini.x && box.y < mini.y + mini.height && box.y + box.height > mini.y) {
      covered.push(await node.getAttribute("data-id"));
    }
  }
  check(covered.length === 0, `the minimap covers no node (${covered.join(", ")})`);
  // Two ways to the same step share a line, their labels joined by " · ".
  const labels = (await page.locator(".react-flow__edge-text").allTextContents()).flatMap((t) => t.trim().split(" · "));
  for (const label of ["on joined", "on unsubscribed", "after 2d", "date passed"]) {
    check(labels.includes(label), `the edge labelled "${label}" (${labels.join(", ")})`);
  }
  await page.getByTestId("node-__trigger").click();
  check((await page.getByLabel("Per value", { exact: true }).inputValue()) === "one_at_a_time", "the trigger's panel shows per_key entry");
  await page.getByRole("tab", { name: "YAML" }).click();
  const exported = await page.getByLabel("Workflow YAML").inputValue();
  for (const line of ["per_key: one_at_a_time", "if_missing: go_on", "if_past: exit", "type: suppress", "event: unsubscribed"]) {
    check(exported.includes(line), `the YAML keeps ${line}`);
  }
  await shot("p5-newer-steps");

  check(problems.length === 0, `no console errors or CSP violations (${problems.join(" | ")})`);
} finally {
  await browser.close();
}
