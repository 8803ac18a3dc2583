import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState } from "react";
import { describe, expect, it, vi } from "vitest";
import type { Spec } from "../canvas/graph";
import type { ProblemOut } from "./problems";
import { WorkflowForm } from "./WorkflowForm";

// The schema the condition and event fields complete from (GET /api/schema).
vi.hoisted(() => {
  globalThis.fetch = (async (request: Request) => {
    const path = new URL(request.url, "http://console.test").pathname;
    const body =
      path === "/api/schema"
        ? { contact: ["email"], consent: [], events: [{ name: "order_completed", properties: ["total", "currency"] }, { name: "cart_abandoned", properties: ["cart_id"] }] }
        : { title: "Not found", status: 404 };
    return new Response(JSON.stringify(body), { status: path === "/api/schema" ? 200 : 404, headers: { "Content-Type": "application/json" } });
  }) as typeof fetch;
});

const base: Spec = { id: "cart", name: "Cart", trigger: { event: "cart_abandoned" }, steps: [{ id: "pause", type: "wait", for: "1h" }] };

/** The form as the builder holds it: each change becomes the spec it shows. */
function Harness({ initial, problems, changed }: { initial: Spec; problems: ProblemOut[]; changed: Spec[] }) {
  const [spec, setSpec] = useState(initial);
  return (
    <WorkflowForm
      spec={spec}
      problems={problems}
      onChange={(next) => {
        changed.push(next);
        setSpec(next);
      }}
    />
  );
}

function form(spec: Spec, problems: ProblemOut[] = []) {
  const changed: Spec[] = [];
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const view = render(
    <QueryClientProvider client={client}>
      <Harness initial={spec} problems={problems} changed={changed} />
    </QueryClientProvider>,
  );
  return { changed, view };
}

describe("WorkflowForm", () => {
  it("sets a goal, then edits its event, window and whether reaching it ends the journey", async () => {
    const first = form(base);
    await userEvent.click(screen.getByRole("button", { name: "Set a goal" }));
    expect(first.changed.at(-1)?.goal).toEqual({ event: "" });
    first.view.unmount();
    const goal = { event: "order_completed", within: "3d" };
    const { changed } = form({ ...base, goal });
    expect(screen.getByLabelText("Within")).toHaveProperty("value", "3d");
    await userEvent.type(screen.getByLabelText("Revenue"), "event.total");
    expect(changed.at(-1)?.goal).toEqual({ ...goal, revenue: "event.total" });
    await userEvent.click(screen.getByRole("checkbox", { name: "Leave the workflow on reaching it" }));
    expect(changed.at(-1)?.goal).toEqual({ ...goal, revenue: "event.total", exit: false });
    await userEvent.click(screen.getByRole("button", { name: "Remove the goal" }));
    expect("goal" in changed.at(-1)!).toBe(false);
  });

  it("completes the goal's condition from the goal event's own properties", async () => {
    form({ ...base, goal: { event: "order_completed" } });
    const where = await screen.findByRole("combobox", { name: "Only when" });
    await userEvent.click(where);
    await userEvent.keyboard("event.t");
    expect(await screen.findByRole("option", { name: "event.total" })).toBeTruthy();
  });

  it("edits the policies: transactional, a cap, quiet hours and the purchase window", async () => {
    const { changed, view } = form(base);
    await userEvent.click(screen.getByRole("checkbox", { name: /Transactional/ }));
    expect(changed.at(-1)?.policies).toEqual({ transactional: true });
    await userEvent.click(screen.getByRole("button", { name: "Add a cap" }));
    await userEvent.click(screen.getByRole("button", { name: "Add quiet hours" }));
    await userEvent.click(screen.getByRole("button", { name: "Hold marketing after a purchase" }));
    expect(changed.at(-1)?.policies).toEqual({
      transactional: true,
      frequency_caps: [{ limit: 1, per: "1d" }],
      quiet_hours: { start: "21:00", end: "08:00" },
      after_purchase: { event: "order_completed", for: "3d" },
    });
    await userEvent.click(screen.getByRole("checkbox", { name: /Transactional/ }));
    expect(changed.at(-1)?.policies).not.toHaveProperty("transactional");
    view.unmount();

    const policies = { frequency_caps: [{ limit: 2, per: "1w" }], quiet_hours: { start: "21:00", end: "08:00" } };
    const second = form({ ...base, policies });
    const cap = screen.getByRole("group", { name: "Cap 1" });
    await userEvent.selectOptions(within(cap).getByLabelText("Channel"), "sms");
    expect(second.changed.at(-1)?.policies).toEqual({ ...policies, frequency_caps: [{ limit: 2, per: "1w", channel: "sms" }] });
    await userEvent.click(screen.getByRole("button", { name: "Remove cap 1" }));
    // The last cap gone: the field goes, never `frequency_caps: []`.
    expect(second.changed.at(-1)?.policies).toEqual({ quiet_hours: policies.quiet_hours });
    await userEvent.click(screen.getByRole("button", { name: "Remove quiet hours" }));
    // Nothing left: no `policies:` at all.
    expect("policies" in second.changed.at(-1)!).toBe(false);
  });

  it("shows the validator's problems at their field and in the section", () => {
    const problems: ProblemOut[] = [
      { step_id: null, path: "policies.frequency_caps[0].per", message: "'zz' is not a duration", hint: "like 1d", severity: "error" },
      { step_id: null, path: "goal.where", message: "the condition ends too early", hint: "", severity: "error" },
    ];
    form({ ...base, goal: { event: "order_completed", where: "event.total >" }, policies: { frequency_caps: [{ limit: 1, per: "zz" }] } }, problems);
    const cap = screen.getByRole("group", { name: "Cap 1" });
    expect(within(cap).getByText("'zz' is not a duration (like 1d)")).toBeTruthy();
    expect(within(screen.getByRole("list", { name: "Problems of the policies" })).getByText(/not a duration/)).toBeTruthy();
    expect(within(screen.getByRole("list", { name: "Problems of the goal" })).getByText(/ends too early/)).toBeTruthy();
  });
});
