import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { logIn, switchWorkspace } from "./session";

type Sent = { path: string; body: Record<string, unknown> };

function session(email: string, workspace: string) {
  return {
    person: { email, name: "" },
    role: "owner",
    workspace: { key: workspace, name: workspace.toUpperCase() },
    workspaces: [
      { key: "acme", name: "ACME", role: "editor" },
      { key: "shop", name: "SHOP", role: "owner" },
    ],
    csrf_token: "t",
  };
}

/** A server where the person belongs to `member` workspaces; it opens `acme` unless asked. */
function server(member: string[], sent: Sent[]) {
  return vi.fn(async (path: string, init: RequestInit) => {
    const body = JSON.parse(String(init.body ?? "{}")) as Record<string, unknown>;
    sent.push({ path, body });
    const wanted = (body.workspace as string | undefined) ?? "acme";
    if (!member.includes(wanted)) return new Response(JSON.stringify({ title: "Forbidden", status: 403 }), { status: 403 });
    return new Response(JSON.stringify(session(String(body.email ?? "bo@example.com"), wanted)), { status: 200 });
  });
}

describe("logging in where one left off", () => {
  beforeEach(() => localStorage.clear());
  afterEach(() => vi.unstubAllGlobals());

  it("opens the workspace last switched to, for that person only", async () => {
    const sent: Sent[] = [];
    vi.stubGlobal("fetch", server(["acme", "shop"], sent));
    expect((await logIn({ email: "bo@example.com", password: "p" })).workspace.key).toBe("acme");
    await switchWorkspace("shop");
    expect((await logIn({ email: "Bo@Example.com", password: "p" })).workspace.key).toBe("shop");
    expect((await logIn({ email: "cy@example.com", password: "p" })).workspace.key).toBe("acme");
  });

  it("falls back to the server's choice when no longer a member there", async () => {
    const sent: Sent[] = [];
    vi.stubGlobal("fetch", server(["acme", "shop"], sent));
    await logIn({ email: "bo@example.com", password: "p", workspace: "shop" });
    vi.stubGlobal("fetch", server(["acme"], sent));
    expect((await logIn({ email: "bo@example.com", password: "p" })).workspace.key).toBe("acme");
    expect(sent.slice(-2).map((s) => s.body.workspace)).toEqual(["shop", undefined]);
  });

  it("keeps the workspace key under a hash of the email, never the email itself", async () => {
    vi.stubGlobal("fetch", server(["acme", "shop"], []));
    await logIn({ email: "Bo@Example.com", password: "p", workspace: "shop" });
    const kept = localStorage.getItem("tidings.last-workspace") ?? "";
    expect(kept.toLowerCase()).not.toContain("bo@example.com");
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode("bo@example.com"));
    const hex = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
    expect(JSON.parse(kept)).toEqual({ [hex]: "shop" });
  });

  it("forgets a workspace kept under a plain email", async () => {
    localStorage.setItem("tidings.last-workspace", JSON.stringify({ "bo@example.com": "shop" }));
    const sent: Sent[] = [];
    vi.stubGlobal("fetch", server(["acme", "shop"], sent));
    expect((await logIn({ email: "bo@example.com", password: "p" })).workspace.key).toBe("acme");
    expect(localStorage.getItem("tidings.last-workspace")).not.toContain("bo@example.com");
  });
});
