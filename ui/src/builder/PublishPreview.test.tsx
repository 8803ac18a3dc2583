import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState, type ReactNode } from "react";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { PublishPreview, type DryRunSummary, type MigrationOut } from "./PublishPreview";

const HOSTILE = "<img src=x onerror=alert(1)>";

const SUMMARY: DryRunSummary = {
  source: "a sample of 500 contacts, events of the last 30d",
  contacts: 480,
  events: 3_200,
  rejected: 0,
  started_at: "2026-11-06T00:00:00Z",
  ended_at: "2026-12-13T00:00:00Z",
  top_events: { page_viewed: 3_000 },
  warnings: [`cart: the trigger never fired for ${HOSTILE}`],
  workflows: [
    {
      key: "cart",
      name: "Cart",
      trigger: "event cart_abandoned",
      entered: 120,
      never_reached: ["late_offer"],
      arms_never_taken: [],
      steps: [
        { step_id: "pause", kind: "wait", reached: 120, sent: 0, queued: 0, deferred: {}, dropped: {}, held: {}, arms: [] },
        {
          step_id: HOSTILE,
          kind: "send",
          reached: 120,
          sent: 90,
          queued: 4,
          deferred: { quiet_hours: 12 },
          dropped: { frequency_cap: 5 },
          held: { no_consent: 9 },
          arms: [],
        },
      ],
    },
  ],
};

const PLAN: MigrationOut = {
  to_version: 3,
  moved: 7,
  stranded: 2,
  applied: false,
  lines: [
    { from_version: 2, from_step: "pause", to_step: "pause", contacts: 7, note: "keeps its deadline" },
    { from_version: 1, from_step: "gone", to_step: null, contacts: 2, note: "no step 'gone' in the new version" },
  ],
};

interface Seen {
  path: string;
  body: unknown;
}

let seen: Seen[] = [];
let dryRun: () => Response;
let plan: (map: Record<string, string>) => Response;

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });

// The API client keeps the fetch it found when loaded: it goes to whichever server a test set.
const server = vi.hoisted(() => {
  const current: { answer: (request: Request) => Promise<Response> } = { answer: async () => new Response(null, { status: 500 }) };
  globalThis.fetch = ((request: Request) => current.answer(request)) as typeof fetch;
  return current;
});

beforeEach(() => {
  seen = [];
  dryRun = () => json(SUMMARY);
  plan = () => json(PLAN);
  server.answer = (async (request: Request) => {
    const path = new URL(request.url, "http://console.test").pathname;
    const text = await request.text();
    seen.push({ path, body: text ? JSON.parse(text) : null });
    if (path.endsWith("/dry-run")) return dryRun();
    if (path.endsWith("/migration")) return plan(text ? (JSON.parse(text) as { map: Record<string, string> }).map : {});
    return json({ title: "Not found", status: 404 }, 404);
  });
});

function wrap(children: ReactNode) {
  return <QueryClientProvider client={new QueryClient()}>{children}</QueryClientProvider>;
}

describe("PublishPreview", () => {
  it("dry-runs the draft on 500 contacts of the last 30 days and shows what each message would do", async () => {
    const { container } = render(wrap(<PublishPreview workflowKey="cart" draft live={false} move={false} onMove={() => {}} />));
    const result = await screen.findByTestId("publish-dry-run");
    expect(seen).toEqual([{ path: "/api/workflows/cart/dry-run", body: { sample: 500, since: "30d", days: 7, seed: 7, draft: true } }]);
    expect(result.textContent).toContain("120 would enter");
    const rows = within(result).getAllByRole("row");
    // Only the message step: the wait sends nothing.
    expect(rows).toHaveLength(2);
    expect(rows[1]?.textContent).toBe(`${HOSTILE}904quiet_hours 12frequency_cap 5no_consent 9`);
    expect(result.textContent).toContain("Never reached: late_offer.");
    expect(screen.getByRole("note").textContent).toBe(`cart: the trigger never fired for ${HOSTILE}`);
    expect(container.querySelector("img")).toBeNull();
    // No waiting contacts asked about for a workflow that is not live.
    expect(seen.some((s) => s.path.endsWith("/migration"))).toBe(false);
  });

  it("runs again with the sample as edited", async () => {
    render(wrap(<PublishPreview workflowKey="cart" draft live={false} move={false} onMove={() => {}} />));
    await screen.findByTestId("publish-dry-run");
    const contacts = screen.getByLabelText("Contacts in the sample");
    await userEvent.clear(contacts);
    await userEvent.type(contacts, "40");
    await userEvent.click(screen.getByRole("button", { name: "Run again" }));
    await screen.findByTestId("publish-dry-run");
    expect(seen.map((s) => s.body)).toContainEqual({ sample: 40, since: "30d", days: 7, seed: 7, draft: true });
  });

  it("says when another dry run is busy, and names the field out of limits", async () => {
    dryRun = () => json({ title: "Busy", status: 429, detail: "another dry run is running; try again when it is done" }, 429);
    const { unmount } = render(wrap(<PublishPreview workflowKey="cart" draft live={false} move={false} onMove={() => {}} />));
    expect((await screen.findByRole("alert")).textContent).toBe("Another dry run is running on the server; try again when it is done.");
    unmount();
    dryRun = () =>
      json({ title: "Invalid request", status: 400, errors: [{ path: "body.sample", message: "Input should be less than or equal to 2000" }] }, 400);
    render(wrap(<PublishPreview workflowKey="cart" draft live={false} move={false} onMove={() => {}} />));
    expect((await screen.findByRole("alert")).textContent).toBe(
      "The sample is outside the limits — sample: Input should be less than or equal to 2000",
    );
  });

  it("shows who would move where and who stays, and leaves them by default", async () => {
    const chosen: boolean[] = [];
    render(wrap(<PublishPreview workflowKey="cart" draft live move={false} onMove={(m) => chosen.push(m)} />));
    const plan = await screen.findByTestId("move-plan");
    expect(seen).toContainEqual({ path: "/api/workflows/cart/migration", body: { map: {}, draft: true } });
    const rows = within(plan).getAllByRole("row").map((r) => r.textContent);
    expect(rows.slice(1)).toEqual(["2pausepause7keeps its deadline", "1gonestays2no step 'gone' in the new version"]);
    expect(screen.getByText(/7 could move to the new version; 2 would stay/)).toBeTruthy();
    const leave = screen.getByRole("radio", { name: "Leave them on their version (default)" });
    expect(leave).toHaveProperty("checked", true);
    await userEvent.click(screen.getByRole("radio", { name: "Move them" }));
    expect(chosen).toEqual([true]);
  });

  it("maps a removed step to a new one, shows the plan it makes, and refuses a map that does not fit", async () => {
    plan = (map) => {
      if (map.gone === "tip") {
        return json({ title: "Invalid", status: 422, errors: [{ path: "map.gone", message: "'tip' is a send step; only waits take contacts", hint: "" }] }, 422);
      }
      if (map.gone === "hold") {
        return json({ ...PLAN, moved: 9, stranded: 0, lines: [PLAN.lines[0], { ...PLAN.lines[1], to_step: "hold", note: "deadline kept" }] });
      }
      return json(PLAN);
    };
    const maps: Record<string, string>[] = [];
    function Dialog() {
      const [map, setMap] = useState<Record<string, string>>({});
      return (
        <PublishPreview
          workflowKey="cart"
          draft
          live
          move={false}
          onMove={() => {}}
          map={map}
          onMap={(m) => {
            maps.push(m);
            setMap(m);
          }}
          targets={["pause", "hold", "tip"]}
        />
      );
    }
    render(wrap(<Dialog />));
    const choose = await screen.findByRole("combobox", { name: "Move contacts at gone to" });
    await userEvent.selectOptions(choose, "hold");
    expect(maps.at(-1)).toEqual({ gone: "hold" });
    await screen.findByText(/9 could move to the new version; 0 would stay/);
    expect(seen).toContainEqual({ path: "/api/workflows/cart/migration", body: { map: { gone: "hold" }, draft: true } });
    const rows = within(screen.getByTestId("move-plan")).getAllByRole("row").map((r) => r.textContent);
    expect(rows.at(-1)).toBe("1gonehold2deadline kept");
    // Still offered, to change it back; a target that takes no contacts is refused, said why.
    await userEvent.selectOptions(screen.getByRole("combobox", { name: "Move contacts at gone to" }), "tip");
    expect((await screen.findByRole("alert")).textContent).toBe(
      "The map does not fit: gone: 'tip' is a send step; only waits take contacts. The plan above is without it.",
    );
    expect(screen.getByRole("radio", { name: "Move them" })).toHaveProperty("disabled", true);
    await userEvent.selectOptions(screen.getByRole("combobox", { name: "Move contacts at gone to" }), "");
    expect(maps.at(-1)).toEqual({});
  });
});
