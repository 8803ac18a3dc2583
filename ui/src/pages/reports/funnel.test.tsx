import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { Funnel } from "./ReportsPage";
import type { WorkflowFigures } from "./types";

const zero = {
  entered: 0, sent: 0, delivered: 0, opened: 0, clicked: 0, converted: 0, revenue: 0,
  unsubscribed: 0, bounced: 0, resends: 0, exited: 0, waiting: 0,
};

describe("Funnel", () => {
  it("says nobody entered instead of drawing empty bars", () => {
    const workflow: WorkflowFigures = {
      ...zero,
      key: "welcome",
      name: "Welcome",
      version: 1,
      status: "active",
      has_goal: false,
      completed: 0,
      steps: [{ ...zero, step_id: "mail", kind: "send", left: 0, drop_off: 0 }],
      versions: [],
      days: [],
    };
    const { container } = render(
      <QueryClientProvider client={new QueryClient()}>
        <Funnel workflow={workflow} />
      </QueryClientProvider>,
    );
    expect(screen.getByText(/No one entered this workflow in the period/)).toBeTruthy();
    expect(container.querySelector(".bar__fill")).toBeNull();
    expect(container.querySelector("table")).toBeNull();
  });
});
