import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { ReactNode } from "react";
import { describe, expect, it } from "vitest";
import type { Spec, Step } from "../canvas/graph";
import { StepForm } from "./StepForm";

const spec: Spec = {
  id: "webinar",
  trigger: { type: "event", event: "registered" },
  entry: { reentry: "per_key", key: "event.webinar_id" },
  steps: [
    { id: "before", type: "wait", at: "event.starts_at - 1h" },
    { id: "attended", type: "wait", events: [{ event: "joined" }], timeout: "2d" },
    { id: "hold", type: "suppress", channel: "sms", reason: "complained" },
    { id: "remind", type: "send", template: "remind" },
  ],
  templates: { remind: { subject: "Soon", text: "See you" } },
};

function wrap(children: ReactNode) {
  return <QueryClientProvider client={new QueryClient()}>{children}</QueryClientProvider>;
}

function form(nodeId: string, changes: { step?: Step[]; entry?: Record<string, unknown>[] } = {}) {
  const steps = (changes.step ??= []);
  const entries = (changes.entry ??= []);
  const kind = nodeId === "__trigger" ? "trigger" : (spec.steps!.find((s) => s.id === nodeId)!.type as "wait");
  render(
    wrap(
      <StepForm
        spec={spec}
        nodeId={nodeId}
        kind={kind}
        problems={[]}
        onStep={(_, step) => steps.push(step)}
        onTrigger={() => undefined}
        onTemplate={() => undefined}
        onEntry={(entry) => entries.push(entry)}
        onClose={() => undefined}
      />,
    ),
  );
  return changes;
}

describe("StepForm for the newer step features", () => {
  it("edits a suppress step's channel and reason", async () => {
    const changes = form("hold");
    expect(screen.getByLabelText("Channel")).toHaveProperty("value", "sms");
    await userEvent.selectOptions(screen.getByLabelText("Channel"), "email");
    expect(changes.step?.at(-1)).toMatchObject({ type: "suppress", channel: "email", reason: "complained" });
  });

  it("shows if_missing and if_past only for a relative wait, and writes them", async () => {
    const changes = form("before");
    await userEvent.selectOptions(screen.getByLabelText("When the field is empty"), "go_on");
    expect(changes.step?.at(-1)).toMatchObject({ at: "event.starts_at - 1h", if_missing: "go_on" });
  });

  it("lists a wait's awaited events and adds one", async () => {
    const changes = form("attended");
    expect(screen.getByLabelText("Awaited event 1")).toHaveProperty("value", "joined");
    expect(screen.queryByLabelText("When the field is empty")).toBeNull();
    await userEvent.click(screen.getByRole("button", { name: "Add an event" }));
    expect(changes.step?.at(-1)?.events).toEqual([{ event: "joined" }, { event: "" }]);
  });

  it("sets what a send's journey does while the policies hold its message back", async () => {
    const changes = form("remind");
    const choice = screen.getByLabelText("While the policies hold it back");
    expect(choice).toHaveProperty("value", "go_on");
    await userEvent.selectOptions(choice, "hold");
    expect(changes.step?.at(-1)).toMatchObject({ id: "remind", type: "send", on_deferral: "hold" });
    await userEvent.type(screen.getByLabelText("Worth sending for"), "2");
    expect(changes.step?.at(-1)).toMatchObject({ valid_for: "2" });
  });

  it("edits entry on the trigger, per_key included", async () => {
    const changes = form("__trigger");
    expect(screen.getByLabelText("Once per value of")).toHaveProperty("value", "event.webinar_id");
    await userEvent.selectOptions(screen.getByLabelText("Per value"), "one_at_a_time");
    expect(changes.entry?.at(-1)).toEqual({ reentry: "per_key", key: "event.webinar_id", per_key: "one_at_a_time" });
  });
});
