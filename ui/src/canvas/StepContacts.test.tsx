import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { StepContacts } from "./StepContacts";

const seen = vi.hoisted(() => {
  const paths: string[] = [];
  globalThis.fetch = (async (request: Request) => {
    const url = new URL(request.url, "http://console.test");
    paths.push(url.pathname + url.search);
    const waiting = url.searchParams.get("status") === "waiting";
    const body = waiting
      ? [{ id: 1, workflow: "flow", version: 1, contact_id: 7, contact_email: "ana@example.com", status: "waiting",
           step_id: "pause", wake_at: "2026-12-13T06:04:00Z", entered_at: "2026-12-01T00:00:00Z", ended_at: null,
           exit_reason: null, converted_at: null, revenue: null },
         { id: 2, workflow: "flow", version: 1, contact_id: 8, contact_email: null, status: "waiting", step_id: "pause",
           wake_at: null, entered_at: "2026-12-01T00:00:00Z", ended_at: null, exit_reason: null, converted_at: null,
           revenue: null }]
      : [];
    return new Response(JSON.stringify(body), { status: 200, headers: { "Content-Type": "application/json" } });
  }) as typeof fetch;
  return paths;
});

describe("StepContacts", () => {
  it("lists the contacts at the step clicked by email, each a link to them", async () => {
    render(
      <QueryClientProvider client={new QueryClient()}>
        <StepContacts workflowKey="flow" stepId="pause" />
      </QueryClientProvider>,
    );
    const link = await screen.findByRole("link", { name: "ana@example.com" });
    expect(link.getAttribute("href")).toBe("/contacts/7");
    // Someone without an email (or erased) is named by their id.
    expect((await screen.findByRole("link", { name: "contact #8" })).getAttribute("href")).toBe("/contacts/8");
    expect(screen.getByText(/waiting until 13 Dec 2026/)).toBeTruthy();
    expect(seen).toContain("/api/workflows/flow/enrollments?step=pause&status=waiting&limit=20");
  });
});
