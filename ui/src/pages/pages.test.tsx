import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { ReactNode } from "react";
import { describe, expect, it } from "vitest";
import { ApiError } from "../api/problem";
import type { Credentials, Session } from "../api/session";
import { SettingsPanel } from "../canvas/SettingsPanel";
import { LoginPage } from "./LoginPage";
import { WorkflowsTable } from "./WorkflowsPage";

const HOSTILE = "<img src=x onerror=alert(1)>";

function wrap(children: ReactNode) {
  const client = new QueryClient({ defaultOptions: { mutations: { retry: false } } });
  return <QueryClientProvider client={client}>{children}</QueryClientProvider>;
}

async function submit(login: (c: Credentials) => Promise<Session>) {
  render(wrap(<LoginPage login={login} />));
  await userEvent.type(screen.getByLabelText("Email"), "ana@example.com");
  await userEvent.type(screen.getByLabelText("Password"), "not-her-password");
  await userEvent.click(screen.getByRole("button", { name: "Log in" }));
}

describe("LoginPage", () => {
  it("says the email or password is wrong on a 401, and sends what was typed", async () => {
    const seen: Credentials[] = [];
    await submit(async (c) => {
      seen.push(c);
      throw new ApiError(401, { title: "Unauthorized", status: 401 });
    });
    expect(await screen.findByRole("alert")).toHaveProperty(
      "textContent",
      "Wrong email or password. Check both and try again.",
    );
    expect(seen).toEqual([{ email: "ana@example.com", password: "not-her-password" }]);
  });

  it("says how long to wait after too many attempts", async () => {
    await submit(async () => {
      throw new ApiError(429, { title: "Too many attempts", status: 429 }, 30);
    });
    expect((await screen.findByRole("alert")).textContent).toBe("Too many attempts. Try again in 30 seconds.");
  });

  it("keeps the button off until both fields are filled", async () => {
    render(wrap(<LoginPage login={async () => Promise.reject(new Error("not called"))} />));
    expect(screen.getByRole("button", { name: "Log in" })).toHaveProperty("disabled", true);
  });
});

describe("server text", () => {
  it("shows a hostile workflow name as text, never as HTML", () => {
    const { container } = render(
      wrap(<WorkflowsTable rows={[{ key: "evil", name: HOSTILE, status: "active", version: 1 }]} />),
    );
    expect(screen.getByText(HOSTILE).tagName).toBe("A");
    expect(container.querySelector("img")).toBeNull();
  });

  it("shows hostile step settings as text in the panel", () => {
    const { container } = render(
      <SettingsPanel
        node={{ id: "s", kind: "notify", title: HOSTILE, summary: HOSTILE, settings: { message: HOSTILE, to: { x: HOSTILE } } }}
        onClose={() => undefined}
      />,
    );
    expect(screen.getAllByText(HOSTILE).length).toBeGreaterThanOrEqual(3);
    expect(container.querySelector("img")).toBeNull();
  });

  it("shows each workflow's figures in its row, and how journeys start when nobody entered", () => {
    const figures = { in_journey: 3, entered: 0, converted: 0, entered_converted: 0, last_entered_at: null, has_goal: true };
    const { container } = render(
      wrap(<WorkflowsTable rows={[{ key: "welcome", name: "Welcome", status: "active", version: 2, figures }]} />),
    );
    const cells = [...container.querySelectorAll("[data-figure]")].map((cell) => cell.textContent);
    expect(cells).toEqual(["3", "0", "0", "—", "none"]);
    expect(screen.getByText(/Nobody entered a workflow in the last 30 days/)).toBeTruthy();
  });

  it("shows an empty state that says how to deploy a workflow", () => {
    render(wrap(<WorkflowsTable rows={[]} />));
    expect(screen.getByText("No workflows yet")).toBeTruthy();
    expect(screen.getByText("tidings workflows deploy examples/workflows")).toBeTruthy();
  });
});
