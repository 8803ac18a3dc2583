import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState } from "react";
import { describe, expect, it, vi } from "vitest";
import { ConditionInput } from "./ConditionInput";

const HOSTILE = "<img src=x onerror=alert(1)>";

const server = vi.hoisted(() => {
  const state = {
    calls: [] as { path: string; body: unknown }[],
    count: (condition: string): { status: number; json: unknown } => ({ status: 200, json: { size: condition.length, sample: [] } }),
  };
  globalThis.fetch = (async (request: Request) => {
    const url = new URL(request.url, "http://console.test");
    const text = request.method === "GET" ? "" : await request.text();
    const body = (text ? JSON.parse(text) : null) as { condition?: string } | null;
    state.calls.push({ path: url.pathname, body });
    const answer =
      url.pathname === "/api/schema"
        ? {
            status: 200,
            json: {
              contact: ["email", "plan", HOSTILE],
              consent: ["email", "sms"],
              events: [{ name: "cart_abandoned", properties: ["value", "cart_id"] }],
            },
          }
        : state.count(body?.condition ?? "");
    return new Response(JSON.stringify(answer.json), {
      status: answer.status,
      headers: { "Content-Type": answer.status >= 400 ? "application/problem+json" : "application/json" },
    });
  }) as typeof fetch;
  return state;
});

function Editor({ initial = "" }: { initial?: string }) {
  const [value, setValue] = useState(initial);
  return <ConditionInput label="Condition 1" value={value} eventName="cart_abandoned" onChange={setValue} />;
}

function shown(initial?: string) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <QueryClientProvider client={client}>
      <Editor {...(initial !== undefined ? { initial } : {})} />
    </QueryClientProvider>,
  );
}

describe("ConditionInput", () => {
  it("completes field names from the schema as you type; Enter takes the one chosen", async () => {
    const { container } = shown();
    const input = screen.getByRole("combobox", { name: "Condition 1" });
    await userEvent.type(input, "contact.");
    const options = await screen.findAllByRole("option");
    // Names a condition cannot write (markup) are not offered, and nothing became an element.
    expect(options.map((o) => o.textContent)).toEqual(["contact.email", "contact.plan"]);
    expect(container.querySelector("img")).toBeNull();
    await userEvent.keyboard("{ArrowDown}{Enter}");
    expect(input).toHaveProperty("value", "contact.plan");
    await userEvent.type(input, ' == "pro" and event.');
    expect((await screen.findAllByRole("option")).map((o) => o.textContent)).toEqual(["event.value", "event.cart_id"]);
    await userEvent.keyboard("{Escape}");
    expect(screen.queryByRole("listbox")).toBeNull();
  });

  it("counts the contacts that match now, and says why a condition on the event has no count", async () => {
    server.calls = [];
    shown('contact.plan == "pro"');
    expect((await screen.findByTestId("condition-count")).textContent).toBe("21 contacts match now");
    expect(server.calls.find((c) => c.path === "/api/segments/preview")?.body).toEqual({ condition: 'contact.plan == "pro"' });
    const input = screen.getByRole("combobox", { name: "Condition 1" });
    await userEvent.clear(input);
    await userEvent.type(input, "event.value >= 100");
    await screen.findByText(/No live count: the condition reads the event/);
  });

  it("shows the server's parser error at the field", async () => {
    server.count = () => ({
      status: 422,
      json: {
        title: "Invalid segment",
        status: 422,
        errors: [{ path: "condition", message: "unexpected end at column 16", hint: "finish the comparison" }],
      },
    });
    shown("contact.plan ==");
    await waitFor(() => expect(screen.getByRole("alert").textContent).toBe("unexpected end at column 16 (finish the comparison)"));
  });
});
