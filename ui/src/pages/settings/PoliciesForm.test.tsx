import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState } from "react";
import { describe, expect, it, vi } from "vitest";
import type { PathProblem } from "../../forms/Field";
import type { Values } from "../../forms/values";
import { PoliciesForm } from "./PoliciesForm";

// The event names the purchase window's field completes from (GET /api/schema).
vi.hoisted(() => {
  globalThis.fetch = (async () =>
    new Response(JSON.stringify({ contact: [], consent: [], events: [{ name: "order_completed", properties: [] }] }), {
      status: 200,
      headers: { "Content-Type": "application/json" },
    })) as typeof fetch;
});

/** The policies as GET /api/settings returns them when no rule is set. */
const NONE: Values = { caps: [], quiet_hours: null, after_purchase: null, duplicates: null, alert_budget: null, timezone: "UTC" };

function Harness({ initial, problems, seen }: { initial: Values; problems: PathProblem[]; seen: Values[] }) {
  const [policies, setPolicies] = useState(initial);
  return (
    <PoliciesForm
      policies={policies}
      problems={problems}
      onChange={(next) => {
        seen.push(next);
        setPolicies(next);
      }}
    />
  );
}

function form(initial: Values, problems: PathProblem[] = []) {
  const seen: Values[] = [];
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    <QueryClientProvider client={client}>
      <Harness initial={initial} problems={problems} seen={seen} />
    </QueryClientProvider>,
  );
  return seen;
}

describe("PoliciesForm", () => {
  it("adds quiet hours and edits them into the workspace's policies", async () => {
    const seen = form(NONE);
    await userEvent.click(screen.getByRole("button", { name: "Add quiet hours" }));
    const quiet = screen.getByRole("group", { name: "Quiet hours" });
    await userEvent.clear(within(quiet).getByLabelText("From"));
    await userEvent.type(within(quiet).getByLabelText("From"), "22:30");
    await userEvent.type(within(quiet).getByLabelText("Channels"), "email");
    expect(seen.at(-1)).toEqual({ ...NONE, quiet_hours: { start: "22:30", end: "08:00", channels: ["email"] } });
  });

  it("keeps the workspace's caps under `caps`, a cap on every channel without a channel, and removes them", async () => {
    const seen = form(NONE);
    await userEvent.click(screen.getByRole("button", { name: "Add a cap" }));
    const cap = screen.getByRole("group", { name: "Cap 1" });
    await userEvent.selectOptions(within(cap).getByLabelText("Channel"), "email");
    expect(seen.at(-1)?.caps).toEqual([{ limit: 1, per: "1d", channel: "email" }]);
    // A workspace cap counts every marketing message: there is no "Counting" choice.
    expect(within(cap).queryByLabelText("Counting")).toBeNull();
    await userEvent.selectOptions(within(cap).getByLabelText("Channel"), "");
    expect(seen.at(-1)?.caps).toEqual([{ limit: 1, per: "1d" }]);
    await userEvent.click(screen.getByRole("button", { name: "Remove cap 1" }));
    expect("caps" in (seen.at(-1) ?? {})).toBe(false);
  });

  it("turns a rule off by leaving it out", async () => {
    const seen = form({ ...NONE, duplicates: { within: "1d" } });
    await userEvent.click(screen.getByRole("button", { name: "Stop dropping duplicates" }));
    expect("duplicates" in (seen.at(-1) ?? {})).toBe(false);
    expect(screen.getByRole("button", { name: "Drop duplicate messages" })).toBeTruthy();
  });

  it("shows the server's problem at its field, and one about the whole rule above it", () => {
    form({ ...NONE, quiet_hours: { start: "25:00", end: "08:00" } }, [
      { path: "policies.quiet_hours.start", message: "not a time of day like 21:00" },
      { path: "policies.quiet_hours", message: "quiet hours need different `start` and `end` times" },
    ]);
    const quiet = screen.getByRole("group", { name: "Quiet hours" });
    const start = within(quiet).getByLabelText("From");
    expect(start.getAttribute("aria-invalid")).toBe("true");
    expect(start.closest(".form__row")?.textContent).toContain("not a time of day like 21:00");
    expect(within(quiet).getByRole("list", { name: "Problems of quiet hours" }).textContent).toContain("different `start` and `end`");
    expect(within(quiet).getByLabelText("Until").getAttribute("aria-invalid")).toBeNull();
  });
});
