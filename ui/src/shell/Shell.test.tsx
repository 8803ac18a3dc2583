import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { setCsrfToken } from "../api/csrf";
import type { Session } from "../api/session";
import { SESSION_KEY } from "../session/useSession";
import { Shell } from "./Shell";

const session: Session = {
  person: { email: "ana@shop.example", name: "Ana" },
  role: "editor",
  workspace: { key: "shop", name: "The Shop" },
  workspaces: [
    { key: "shop", name: "The Shop", role: "editor" },
    { key: "outlet", name: "The Outlet", role: "viewer" },
  ],
  csrf_token: "token-1",
};

afterEach(() => {
  vi.unstubAllGlobals();
  setCsrfToken(null);
});

describe("Shell", () => {
  it("switches workspace with the CSRF token and shows the new one", async () => {
    const calls: { url: string; init: RequestInit }[] = [];
    const moved = { ...session, role: "viewer", workspace: { key: "outlet", name: "The Outlet" }, csrf_token: "token-2" };
    vi.stubGlobal("fetch", async (url: string, init: RequestInit) => {
      calls.push({ url, init });
      return new Response(JSON.stringify(moved), { status: 200, headers: { "Content-Type": "application/json" } });
    });
    setCsrfToken(session.csrf_token);
    const client = new QueryClient();
    client.setQueryData(SESSION_KEY, session);
    client.setQueryData(["workflows"], [{ key: "only-in-shop" }]);
    render(
      <QueryClientProvider client={client}>
        <Shell session={session}>page</Shell>
      </QueryClientProvider>,
    );
    expect(screen.getByText("Ana")).toBeTruthy();
    await userEvent.selectOptions(screen.getByLabelText("Workspace"), "outlet");
    await waitFor(() => expect(client.getQueryData(SESSION_KEY)).toEqual(moved));
    expect(calls).toHaveLength(1);
    expect(calls[0]?.url).toBe("/api/session/workspace");
    expect(calls[0]?.init.method).toBe("POST");
    expect(JSON.parse(String(calls[0]?.init.body))).toEqual({ workspace: "outlet" });
    expect((calls[0]?.init.headers as Record<string, string>)["X-CSRF-Token"]).toBe("token-1");
    // Nothing cached from the workspace just left.
    expect(client.getQueryData(["workflows"])).toBeUndefined();
  });

  it("shows a single workspace as text, and all seven sections", () => {
    render(
      <QueryClientProvider client={new QueryClient()}>
        <Shell session={{ ...session, workspaces: [session.workspaces[0]!] }}>page</Shell>
      </QueryClientProvider>,
    );
    expect(screen.getByTestId("workspace").textContent).toBe("The Shop");
    expect(screen.getByRole("navigation", { name: "Console" }).querySelectorAll("a")).toHaveLength(7);
  });
});
