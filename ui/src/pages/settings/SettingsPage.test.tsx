import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { fireEvent, render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { components } from "../../api/schema";
import { DeliveryForm } from "./SettingsPage";

type Settings = components["schemas"]["DeliverySettings-Output"];

const SETTINGS = {
  sender: { from_email: "news@shop.example", from_name: "Shop", reply_to: null, dkim_domain: null, postal_address: "1 Main St" },
  policies: { caps: [], quiet_hours: null, after_purchase: null, duplicates: null, alert_budget: null, timezone: "UTC" },
  topics: [],
  alerts: { slack_webhook_url: null },
  double_opt_in: false,
} as unknown as Settings;

// The API client keeps the fetch it found when loaded: every test answers through this one.
const server = vi.hoisted(() => {
  const current = { puts: 0 };
  globalThis.fetch = (async (request: Request) => {
    current.puts += 1;
    return new Response(await request.text(), { status: 200, headers: { "Content-Type": "application/json" } });
  }) as typeof fetch;
  return current;
});

beforeEach(() => {
  server.puts = 0;
});

function renderForm() {
  const client = new QueryClient();
  render(
    <QueryClientProvider client={client}>
      <DeliveryForm initial={SETTINGS} />
    </QueryClientProvider>,
  );
}

async function save() {
  await userEvent.click(screen.getByRole("button", { name: "Save delivery settings" }));
  await screen.findByText("Saved. New messages follow these settings.");
}

describe("the delivery settings form", () => {
  it("stops saying Saved at the next edit of a field, a rule or the JSON", async () => {
    renderForm();
    await save();
    await userEvent.type(screen.getByLabelText("From name"), "!");
    expect(screen.queryByText(/^Saved\./)).toBeNull();

    await save();
    await userEvent.type(screen.getByLabelText("The workspace's timezone"), "x");
    expect(screen.queryByText(/^Saved\./)).toBeNull();

    await save();
    await userEvent.click(screen.getByRole("button", { name: "JSON" }));
    fireEvent.change(screen.getByLabelText("Policies"), { target: { value: '{"timezone": "Europe/Paris"}' } });
    expect(screen.queryByText(/^Saved\./)).toBeNull();
    expect(server.puts).toBe(3);
  });

  it("keeps the form closed while the JSON does not parse, and says why", async () => {
    renderForm();
    await userEvent.click(screen.getByRole("button", { name: "JSON" }));
    fireEvent.change(screen.getByLabelText("Policies"), { target: { value: '{"timezone": "Europe/Par' } });
    const form = screen.getByRole("button", { name: "Form" });
    expect(form).toHaveProperty("disabled", true);
    expect(screen.getByText(/The form opens again once the JSON parses/)).toBeTruthy();
    // The JSON being typed is still there, untouched.
    expect(screen.getByLabelText("Policies")).toHaveProperty("value", '{"timezone": "Europe/Par');

    fireEvent.change(screen.getByLabelText("Policies"), { target: { value: '{"timezone": "Europe/Paris"}' } });
    expect(form).toHaveProperty("disabled", false);
    await userEvent.click(form);
    expect(screen.getByLabelText("The workspace's timezone")).toHaveProperty("value", "Europe/Paris");
  });
});
