// The console's watching-and-acting pages in a real headless Chromium against a real
// `tidings serve`. Driven by tests/e2e/test_console_pages.py, which starts the server,
// makes an owner, an approver and a viewer, and sends the events:
//   node e2e/pages.e2e.mjs  (settings in the environment, see `need` below)
// Every step asserts what a person relies on; the first failure exits non-zero with why.
import { join } from "node:path";
import { check, launch, need as needFrom } from "./harness.mjs";

const need = (name) => needFrom(name, "tests/e2e/test_console_pages.py");

const BASE = need("CONSOLE_URL");
const OWNER = need("CONSOLE_EMAIL");
const APPROVER = need("CONSOLE_APPROVER");
const VIEWER = need("CONSOLE_VIEWER");
const PASSWORD = need("CONSOLE_PASSWORD");
const HOSTILE = need("CONSOLE_HOSTILE_NAME");
const SHOTS = need("CONSOLE_SCREENSHOTS");
const COMMENT = "Ana asked twice; call her today";

const browser = await launch(SHOTS);
const problems = [];
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  // A CSP violation (an inline style or script) or an uncaught error is a failure; the
  // 401 of the first session check, and the 400 and 403 this script provokes on purpose, are not.
  page.on("console", (message) => {
    if (message.type() === "error" && !/status of 40[013]/.test(message.text())) problems.push(message.text());
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  // An `alert(1)` from a hostile value that became markup would open a dialog.
  page.on("dialog", async (dialog) => {
    problems.push(`a dialog opened: ${dialog.message()}`);
    await dialog.dismiss();
  });
  const shot = (name) => page.screenshot({ path: join(SHOTS, `${name}.png`) });
  const noMarkup = async (where) =>
    check((await page.locator(".content img").count()) === 0, `hostile values make no element on ${where}`);

  const logIn = async (email) => {
    await page.goto(`${BASE}/approvals`);
    await page.getByRole("heading", { name: "Log in to the console" }).waitFor();
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByTestId("person").waitFor();
  };
  const logOut = async () => {
    await page.getByRole("button", { name: "Log out" }).click();
    await page.getByRole("heading", { name: "Log in to the console" }).waitFor();
  };

  // ---- The approver decides.
  await logIn(APPROVER);
  await page.getByRole("heading", { name: "Approvals" }).waitFor();
  const card = page.getByRole("article").filter({ hasText: "Call ana@example.com?" });
  await card.waitFor();
  check((await card.textContent()).includes("Sales hand-off"), "the approval names its workflow");
  check((await card.getByRole("link", { name: /ana@example\.com/ }).count()) === 1, "the approval links its contact");
  check(
    (await card.locator(".preview__subject").textContent()) === "A rep will call, Ana",
    "the approval previews the message rendered for the contact",
  );
  check((await card.locator(".preview__body").textContent()) === "About Pro plan.", "the preview reads the trigger's data");
  check(/^Decide in (47 hours|2 days)/.test(await card.locator(".deadline").textContent()), "the approval shows its deadline");
  await shot("01-approvals");
  await card.getByLabel(/Comment/).fill(COMMENT);
  await card.getByRole("button", { name: "Approve" }).click();
  const status = page.getByRole("status");
  await status.waitFor();
  check(/approved; the journey is now/.test(await status.textContent()), "approving says where the journey went");
  await page.getByRole("heading", { name: "Nothing waits for a decision" }).waitFor();
  check(true, "the inbox empties and says so");
  await shot("02-approvals-empty");
  await logOut();

  // ---- The owner reads the contact's why, erases another contact, opens the reports.
  await logIn(OWNER);
  await page.goto(`${BASE}/contacts`);
  await page.getByRole("link", { name: "bo@example.com" }).waitFor();
  await shot("03-contacts");
  await page.getByRole("searchbox").fill("ANA@");
  await page.getByRole("button", { name: "Search" }).click();
  await page.waitForURL(/\/contacts\?q=ANA%40/);
  await page.getByRole("link", { name: "bo@example.com" }).waitFor({ state: "detached" });
  await page.getByRole("link", { name: "ana@example.com" }).waitFor();
  check((await page.locator("table tbody tr").count()) === 1, "searching finds the one contact, in any case");
  await page.getByRole("link", { name: "ana@example.com" }).click();
  await page.getByRole("heading", { name: "ana@example.com" }).waitFor();
  const why = page.getByTestId("why");
  await why.waitFor();
  const story = await why.textContent();
  check(story.includes("awaiting approval") && story.includes("Call ana@example.com?"), "the why names the approval asked");
  check(story.includes(`${APPROVER}: ${COMMENT}`), "the why keeps the approver's comment");
  check(story.includes("queued"), "the why shows the message the approval let through");
  check((await page.getByText(HOSTILE, { exact: true }).count()) >= 2, "a hostile trait and event name show as text");
  check((await page.locator(".events__name").allTextContents()).includes(HOSTILE), "the hostile event is on the timeline");
  await noMarkup("the contact's profile");
  const topics = page.locator(".card").filter({ hasText: "Consent" });
  check((await topics.textContent()).includes("news"), "consent per topic shows");
  await shot("04-contact");
  await page.getByRole("button", { name: "Why not" }).click();
  await page.getByRole("button", { name: "Why not", pressed: true }).waitFor();
  check(
    (await why.locator(".verdict").allTextContents()).every((t) => t === "why not"),
    "the why-not view shows only what did not happen",
  );
  await shot("05-contact-why-not");

  await page.goto(`${BASE}/contacts`);
  await page.getByRole("link", { name: "bo@example.com" }).click();
  await page.getByRole("heading", { name: "bo@example.com" }).waitFor();
  await page.getByRole("button", { name: "Erase contact" }).click();
  const dialog = page.getByRole("dialog", { name: "Erase this contact?" });
  await dialog.waitFor();
  await shot("06-erase-confirm");
  await dialog.getByRole("button", { name: "Erase for good" }).click();
  await page.waitForURL(/\/contacts$/);
  // The list may show its cached page while it asks again: wait for the answer.
  await page.getByRole("link", { name: "bo@example.com" }).waitFor({ state: "detached" });
  await page.getByRole("link", { name: "ana@example.com" }).waitFor();
  const left = await page.evaluate(async () => (await (await fetch("/api/contacts?q=bo%40")).json()).length);
  check(left === 0, "an erased contact is gone");

  const tabs = [
    ["workflows", "cart_recovery"],
    ["funnels", "handoff"],
    ["experiments", "No experiment yet"],
    ["lift", "No holdout group yet"],
    ["attribution", "No conversion in this period"],
    ["value", "Value per contact"],
    ["audit", ""],
  ];
  let n = 7;
  for (const [tab, expected] of tabs) {
    await page.goto(`${BASE}/reports/${tab}`);
    await page.getByText("Computed").waitFor();
    const text = await page.locator(".content").textContent();
    check(text.includes(expected), `the ${tab} report shows ${expected || "its findings"}`);
    const rates = [...text.matchAll(/(\d+(?:\.\d+)?)%/g)].map((m) => Number(m[1]));
    check(rates.every((r) => r <= 100), `no rate above 100% on the ${tab} report`);
    await shot(`${String(n++).padStart(2, "0")}-report-${tab}`);
  }
  // Segments: a rule built by hand, its live size and who matches, then saved.
  await page.goto(`${BASE}/segments`);
  await page.getByRole("heading", { name: "No segments yet" }).waitFor();
  await page.getByRole("button", { name: "New segment" }).click();
  await page.getByLabel("Name").fill("Named Ana");
  await page.getByLabel("Field").fill("first_name");
  await page.getByLabel("Value").fill("Ana");
  check((await page.getByTestId("condition").textContent()) === 'contact.first_name == "Ana"', "the rules write the condition");
  await page.getByTestId("size").filter({ hasText: /^1 / }).waitFor();
  const matching = page.getByRole("region", { name: "Preview" });
  check((await matching.getByRole("link").allTextContents()).includes("ana@example.com"), "the preview lists who matches");
  await shot(`${String(n++).padStart(2, "0")}-segment-builder`);
  await page.getByLabel("Value").fill("Zed");
  await page.getByTestId("size").filter({ hasText: /^0 / }).waitFor();
  check(true, "the size follows the rules as they change");
  await page.getByLabel("Value").fill("Ana");
  await page.getByRole("button", { name: "Save segment" }).click();
  await page.getByRole("cell", { name: /named_ana/ }).waitFor();
  check((await page.locator("table tbody tr").count()) === 1, "the saved segment is listed with its size");
  await shot(`${String(n++).padStart(2, "0")}-segments`);

  // Forms: a definition typed as YAML, refused with its field path, then created; the form's
  // page shows its link and snippet, and hostile wording as text.
  await page.goto(`${BASE}/forms`);
  await page.getByRole("heading", { name: "No forms yet" }).waitFor();
  await page.getByRole("link", { name: "New form" }).click();
  const definition = page.getByLabel("Form definition (YAML or JSON)");
  check((await definition.inputValue()).includes("key: newsletter"), "a new form starts from an example definition");
  const quoted = JSON.stringify(HOSTILE);
  const demo = (type) =>
    [
      "key: demo",
      `name: ${JSON.stringify(`Demo ${HOSTILE}`)}`,
      `title: ${quoted}`,
      "fields:",
      `  - {key: email, label: ${quoted}, type: ${type}, required: true}`,
      "consents:",
      `  - {key: news, channel: email, wording: ${quoted}}`,
    ].join("\n");
  await definition.fill(demo("colour"));
  await page.getByRole("button", { name: "Create form" }).click();
  const refusedForm = page.getByRole("alert");
  await refusedForm.waitFor();
  const formWhy = await refusedForm.textContent();
  check(formWhy.includes("fields.0.type"), `a bad definition is refused, naming the field (${formWhy})`);
  await definition.fill(demo("email"));
  await page.getByRole("button", { name: "Create form" }).click();
  await page.getByRole("heading", { name: `Demo ${HOSTILE}` }).waitFor();
  check(true, "an owner creates a form in the console");
  const link = await page.getByTestId("form-link").textContent();
  check(/\/f\/[^/]+\/demo$/.test(link), `the form's page shows its hosted link (${link})`);
  const snippet = await page.getByTestId("snippet").textContent();
  check(snippet.startsWith("<script src=") && snippet.includes("/demo/embed.js"), "the form's page shows the embed snippet");
  const questions = await page.getByRole("region", { name: "Questions" }).textContent();
  check(questions.split(HOSTILE).length >= 3, "the hostile label and consent wording show as text");
  await noMarkup("the form's page");
  await page.getByRole("button", { name: "Copy" }).click();
  await page.getByText(/^Copied\.$|^The browser refused/).waitFor();
  check(true, "the snippet's Copy button answers");
  // A visitor from a campaign opens the hosted page: the view counts by source and by page.
  await page.goto(`${link}?utm_source=launch&page=${encodeURIComponent("https://shop.example/pricing")}`);
  await page.getByRole("button", { name: "Send" }).waitFor();
  check((await page.locator("img").count()) === 0, "hostile values make no element on the hosted form");
  await page.goto(`${BASE}/forms/demo`);
  const bySource = page.getByRole("region", { name: "By source" });
  await bySource.getByRole("cell", { name: "launch" }).waitFor();
  const sourceRow = await bySource.getByRole("row").filter({ hasText: "launch" }).textContent();
  check(sourceRow.includes("0.0%"), `figures by source count the view, none sent yet (${sourceRow})`);
  await page.getByRole("region", { name: "By page" }).getByRole("cell", { name: "https://shop.example/pricing" }).waitFor();
  check(true, "figures by page name the page");
  await shot(`${String(n++).padStart(2, "0")}-form`);
  await page.getByLabel("Form definition (YAML or JSON)").fill(`${demo("email")}\nthank_you: See you soon`);
  await page.getByRole("button", { name: "Save new version" }).click();
  await page.getByText(/^Version 2 · /).waitFor();
  check((await page.getByRole("region", { name: "Questions" }).textContent()).includes("See you soon"), "a saved change is a new version");
  await page.getByRole("link", { name: "Forms", exact: true }).click();
  const formRow = page.getByRole("row").filter({ hasText: "demo" });
  await formRow.waitFor();
  await formRow.getByRole("cell", { name: "0.0%" }).waitFor();
  const listed = await formRow.textContent();
  check(listed.includes(`Demo ${HOSTILE}`), "the forms list shows the form, its name as text");
  await noMarkup("the forms list");
  await shot(`${String(n++).padStart(2, "0")}-forms`);

  // Settings: a key shown once, the people and their roles, the audit log.
  await page.goto(`${BASE}/settings/delivery`);
  await page.getByLabel("From address", { exact: true }).waitFor();
  await page.getByLabel("From address", { exact: true }).fill("not an address");
  await page.getByRole("button", { name: "Save delivery settings" }).click();
  const refusedSettings = page.getByRole("alert");
  await refusedSettings.waitFor();
  const refusal = await refusedSettings.textContent();
  check(refusal.includes("sender.from_email") && refusal.includes("contains spaces"), `a bad sender address is refused, naming the field (${refusal})`);
  check(
    (await page.getByLabel("From address", { exact: true }).getAttribute("aria-invalid")) === "true",
    "the refused field itself is marked, with the reason under it",
  );
  const rules = await page.getByTestId("policies-summary").textContent();
  check(rules.includes("follow UTC") && !rules.includes("{"), `the policies read as sentences (${rules})`);
  await page.getByLabel("From address", { exact: true }).fill("news@shop.example");
  await page.getByRole("button", { name: "Save delivery settings" }).click();
  await page.getByText("Saved. New messages follow these settings.").waitFor();
  check(true, "the sender identity saves");

  // The policies as a form: quiet hours set, saved, and still there after a reload; a bad
  // value refused at its own field; the JSON one click away.
  const saveSettings = async () => {
    const answered = page.waitForResponse((r) => r.url().endsWith("/api/settings") && r.request().method() === "PUT");
    await page.getByRole("button", { name: "Save delivery settings" }).click();
    return (await answered).status();
  };
  await page.getByRole("button", { name: "Add quiet hours" }).click();
  const quiet = page.getByRole("group", { name: "Quiet hours" });
  await quiet.getByLabel("From", { exact: true }).fill("22:30");
  await quiet.getByLabel("Until", { exact: true }).fill("07:15");
  check((await saveSettings()) === 200, "quiet hours set through the form save");
  await page.reload();
  await quiet.getByLabel("From", { exact: true }).waitFor();
  check(
    (await quiet.getByLabel("From", { exact: true }).inputValue()) === "22:30" && (await quiet.getByLabel("Until", { exact: true }).inputValue()) === "07:15",
    "the saved quiet hours are in the form after a reload",
  );
  const saidQuiet = await page.getByTestId("policies-summary").textContent();
  check(saidQuiet.includes("between 22:30 and 07:15"), `the policies' sentences say the quiet hours (${saidQuiet})`);
  await quiet.getByLabel("Until", { exact: true }).fill("25:00");
  check((await saveSettings()) === 400, "an hour that does not exist is refused");
  const until = quiet.getByLabel("Until", { exact: true });
  await page.locator("[aria-invalid=true]").first().waitFor();
  const untilRow = await until.locator("xpath=..").textContent();
  check((await until.getAttribute("aria-invalid")) === "true" && untilRow.length > "Until".length, `the refused hour is marked at its field, with why (${untilRow})`);
  check((await quiet.getByLabel("From", { exact: true }).getAttribute("aria-invalid")) === null, "the field that was fine is not marked");
  await shot(`${String(n++).padStart(2, "0")}-settings-policy-refused`);
  await page.getByRole("button", { name: "JSON", exact: true }).click();
  const source = await page.getByLabel("Policies", { exact: true }).inputValue();
  check(source.includes('"start": "22:30"') && source.includes('"end": "25:00"'), "the JSON view, one click away, holds the same rules as the form");
  await page.getByRole("button", { name: "Form", exact: true }).click();
  await quiet.getByLabel("Until", { exact: true }).fill("07:15");
  check((await saveSettings()) === 200, "the corrected hour saves");
  await shot(`${String(n++).padStart(2, "0")}-settings-delivery`);
  await page.goto(`${BASE}/settings/keys`);
  await page.getByRole("button", { name: "Create key" }).click();
  const key = await page.getByTestId("new-key").textContent();
  check(/^tdp_/.test(key) && key.length > 20, "a new key is shown once, whole");
  await page.getByRole("cell", { name: `${key.slice(0, 10)}…` }).waitFor();
  check(true, "the list shows only the new key's prefix");
  await shot(`${String(n++).padStart(2, "0")}-settings-keys`);
  await page.goto(`${BASE}/settings/people`);
  await page.getByLabel(`Role of ${APPROVER}`).waitFor();
  check((await page.getByLabel(`Role of ${APPROVER}`).inputValue()) === "approver", "people are listed with their roles");
  await shot(`${String(n++).padStart(2, "0")}-settings-people`);
  await page.goto(`${BASE}/settings/audit`);
  await page.getByRole("cell", { name: /saved segment named_ana/ }).waitFor();
  check(true, "the audit log names the segment just saved");
  const log = await page.locator("table").textContent();
  check(log.includes("created a write key tdw_"), "the audit log says which kind of key was made, by its prefix");
  check(!log.includes('"method"') && !log.includes("segments.preview"), "the audit log reads as sentences, without request JSON or previews");
  await shot(`${String(n++).padStart(2, "0")}-settings-audit`);

  // The live canvas: its figures for a chosen version and period; archiving asks first.
  await page.goto(`${BASE}/workflows/handoff`);
  const entered = page.getByTestId("figures-__trigger");
  await entered.filter({ hasText: "1 entered" }).waitFor();
  check(
    (await page.getByTestId("figures-caption").textContent()).startsWith("Journeys on version 1, all time"),
    "the canvas says which journeys its figures count",
  );
  await page.getByLabel("From", { exact: true }).fill("2026-03-10");
  await page.getByLabel("To", { exact: true }).fill("2026-03-01");
  const badPeriod = await page.getByRole("alert").textContent();
  check(badPeriod.includes("(2026-03-01) is before") && (await page.getByRole("button", { name: "Apply" }).isDisabled()), "a period that ends before it starts is refused, naming both days");
  await page.getByLabel("From", { exact: true }).fill("2099-01-01");
  await page.getByLabel("To", { exact: true }).fill("");
  await page.getByRole("button", { name: "Apply" }).click();
  await page.getByTestId("figures-caption").filter({ hasText: "since 2099-01-01" }).waitFor();
  await entered.waitFor({ state: "detached" });
  check(true, "a period with no journey shows no figures on the canvas");
  await page.getByRole("button", { name: "All time" }).click();
  await page.getByLabel("Version", { exact: true }).selectOption("all");
  await page.getByTestId("figures-caption").filter({ hasText: "all versions, all time" }).waitFor();
  await entered.filter({ hasText: "1 entered" }).waitFor();
  check(true, "all versions over all time count the journey again");
  await shot(`${String(n++).padStart(2, "0")}-canvas-figures`);
  await page.getByRole("button", { name: "Archive" }).click();
  const archiving = page.getByRole("dialog", { name: "Archive handoff?" });
  await archiving.waitFor();
  await archiving.getByRole("button", { name: "Cancel" }).click();
  await archiving.waitFor({ state: "detached" });
  check((await page.locator(".pill--active").count()) === 1, "archiving asks first, and Cancel leaves the workflow active");

  await page.goto(`${BASE}/reports/funnels`);
  await page.getByRole("region", { name: "Funnel of handoff" }).waitFor();
  const funnel = await page.getByRole("region", { name: "Funnel of handoff" }).textContent();
  check(funnel.includes("ask") && funnel.includes("hi"), "the funnel lists the workflow's steps");
  await logOut();

  // ---- The viewer cannot erase: the button is off, and the server refuses anyway.
  await logIn(VIEWER);
  await page.goto(`${BASE}/contacts?q=ana`);
  await page.getByRole("link", { name: "ana@example.com" }).click();
  await page.getByRole("heading", { name: "ana@example.com" }).waitFor();
  check(await page.getByRole("button", { name: "Erase contact" }).isDisabled(), "a viewer's erase button is off");
  await shot(`${String(n++).padStart(2, "0")}-contact-as-viewer`);
  // The list shows how each workflow is doing: Ana's demo request entered the hand-off.
  await page.goto(`${BASE}/workflows`);
  const handoffRow = page.locator('tr[data-workflow="handoff"]');
  await handoffRow.waitFor();
  const figure = async (name) => (await handoffRow.locator(`[data-figure="${name}"]`).textContent()).trim();
  const lastEntry = await figure("last_entry");
  check(
    (await figure("entered")) === "1" && /\d/.test(lastEntry),
    `the workflows list shows the hand-off's entry in the last 30 days (last entry ${lastEntry})`,
  );
  const workflowsText = await page.locator(".content").textContent();
  check(
    [...workflowsText.matchAll(/(\d+(?:\.\d+)?)%/g)].every((m) => Number(m[1]) <= 100),
    "no conversion rate above 100% on the workflows list",
  );
  await shot(`${String(n++).padStart(2, "0")}-workflows-as-viewer`);
  await page.goto(`${BASE}/workflows/handoff`);
  await page.getByTestId("read-only").waitFor();
  check(
    (await page.getByRole("button", { name: "Archive" }).count()) === 0 && (await page.getByRole("link", { name: "Edit" }).count()) === 0,
    "a viewer sees the canvas read only, without pause, archive or edit",
  );
  await page.goto(`${BASE}/forms/demo`);
  await page.getByRole("heading", { name: `Demo ${HOSTILE}` }).waitFor();
  check(
    (await page.getByLabel("Form definition (YAML or JSON)").getAttribute("readonly")) !== null &&
      (await page.getByRole("button", { name: "Save new version" }).count()) === 0,
    "a viewer reads a form's definition but cannot save it",
  );
  await page.goto(`${BASE}/settings/delivery`);
  const readRules = await page.getByTestId("policies-summary").textContent();
  check(
    readRules.includes("between 22:30 and 07:15") && (await page.getByRole("button", { name: "Save delivery settings" }).count()) === 0 && (await page.getByRole("textbox").count()) === 0,
    `a viewer reads the policies as sentences, with nothing to change them (${readRules})`,
  );
  await shot(`${String(n++).padStart(2, "0")}-settings-as-viewer`);
  await page.goto(`${BASE}/contacts?q=ana`);
  await page.getByRole("link", { name: "ana@example.com" }).click();
  await page.getByRole("heading", { name: "ana@example.com" }).waitFor();
  const refused = await page.evaluate(async () => {
    const session = await (await fetch("/api/session")).json();
    const id = location.pathname.split("/").pop();
    const answer = await fetch(`/api/contacts/${id}`, {
      method: "DELETE",
      headers: { "X-CSRF-Token": session.csrf_token },
    });
    const still = await fetch(`/api/contacts/${id}`);
    return { status: answer.status, body: await answer.json(), still: still.status };
  });
  check(refused.status === 403 && /needs the owner role/.test(refused.body.detail), "the server refuses a viewer's erasure");
  check(refused.still === 200, "the contact is still there");
  await logOut();

  check(problems.length === 0, `no console errors or CSP violations (${problems.join(" | ")})`);
} finally {
  await browser.close();
}
