import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { isFrameUrl, readEvent } from "./previewFrame";
import { TemplatePreview } from "./TemplatePreview";

const HOSTILE = "<img src=x onerror=alert(1)>";
const FRAME = "/preview-frames/0123456789abcdefghij_-ABCDEFGHIJ";

interface Call {
  method: string;
  path: string;
  body: unknown;
}

// openapi-fetch keeps the fetch it finds when the client module loads: stub it before that.
const server = vi.hoisted(() => {
  const state = {
    calls: [] as { method: string; path: string; body: unknown }[],
    answer: (path: string, body: unknown): { status: number; json: unknown } => ({ status: 404, json: { path, body } }),
  };
  globalThis.fetch = (async (request: Request) => {
    const url = new URL(request.url, "http://console.test");
    const text = request.method === "GET" ? "" : await request.text();
    const body: unknown = text ? JSON.parse(text) : null;
    state.calls.push({ method: request.method, path: url.pathname + url.search, body });
    const { status, json } = state.answer(url.pathname, body);
    return new Response(JSON.stringify(json), {
      status,
      headers: { "Content-Type": status >= 400 ? "application/problem+json" : "application/json" },
    });
  }) as typeof fetch;
  return state;
});

function shown(props: Partial<Parameters<typeof TemplatePreview>[0]> = {}) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } });
  return render(
    <QueryClientProvider client={client}>
      <TemplatePreview
        workflowKey="welcome"
        stepId="hi"
        templateName="hi"
        channel="email"
        template={{ subject: "Hi {{ contact.first_name }}", html: "<p>Hello</p>" }}
        {...props}
      />
    </QueryClientProvider>,
  );
}

const previews = (): Call[] => server.calls.filter((c) => c.path.endsWith("/preview"));

describe("TemplatePreview", () => {
  it("asks the server to render the text being edited, and shows its HTML only in a sandboxed frame", async () => {
    server.calls = [];
    server.answer = (path) =>
      path.endsWith("/preview")
        ? { status: 200, json: { subject: HOSTILE, html: `<p>${HOSTILE}</p>`, text: null, frame: FRAME } }
        : { status: 404, json: {} };
    const { container } = shown();
    const frame = await screen.findByTitle("Rendered email");
    expect(previews()[0]?.body).toEqual({
      template: "hi",
      draft: true,
      source: { subject: "Hi {{ contact.first_name }}", html: "<p>Hello</p>", text: null },
      event: {},
      contact: null,
    });
    // The subject is text; the HTML is only in the frame, loaded from the server's preview
    // page (its own policy), sandboxed without scripts or same origin.
    expect(screen.getByTestId("preview-subject").textContent).toBe(HOSTILE);
    expect(frame.getAttribute("sandbox")).toBe("");
    expect(frame.getAttribute("src")).toBe(FRAME);
    expect(frame.hasAttribute("srcdoc")).toBe(false);
    expect(container.querySelector("img")).toBeNull();
    // Mobile width: the same message, narrower.
    await userEvent.click(screen.getByRole("button", { name: "Mobile" }));
    expect((screen.getByTitle("Rendered email") as HTMLIFrameElement).style.width).toBe("375px");
  });

  it("shows the server's render error at the preview", async () => {
    server.calls = [];
    server.answer = () => ({
      status: 400,
      json: { title: "Bad Request", status: 400, detail: "hi does not render: unexpected end of tag" },
    });
    shown({ template: { subject: "{% if %}", text: "x" } });
    expect((await screen.findByRole("alert")).textContent).toContain("does not render");
  });

  it("finds contacts by search and shows hostile values as text, then renders for the one chosen", async () => {
    server.calls = [];
    server.answer = (path) =>
      path === "/api/contacts"
        ? { status: 200, json: [{ id: 7, email: HOSTILE, user_id: null, phone: null }] }
        : { status: 200, json: { subject: "Hi", html: null, text: "Hello" } };
    const { container } = shown({ channel: "sms", template: { text: "Hello" } });
    await userEvent.type(screen.getByRole("searchbox"), "img");
    const found = await screen.findByRole("button", { name: HOSTILE });
    expect(container.querySelector("img")).toBeNull();
    expect(server.calls.some((c) => c.path === "/api/contacts?q=img&limit=8")).toBe(true);
    await userEvent.click(found);
    await waitFor(() => expect(previews().at(-1)?.body).toMatchObject({ contact: "7" }));
    expect((await screen.findByTestId("preview-text")).textContent).toBe("Hello");
  });

  it("sends a test of the text being edited to the address typed", async () => {
    server.calls = [];
    server.answer = (path) =>
      path.endsWith("/test-send")
        ? { status: 200, json: { id: 1, channel: "email", to: "ed@example.com", subject: "[Test] Hi" } }
        : { status: 200, json: { subject: "Hi", html: "<p>x</p>", text: null, frame: FRAME } };
    shown();
    await userEvent.type(screen.getByLabelText("Send a test to"), "ed@example.com");
    await userEvent.click(screen.getByRole("button", { name: "Send test" }));
    expect((await screen.findByRole("status")).textContent).toContain("Sent to ed@example.com: [Test] Hi");
    const sent = server.calls.find((c) => c.path.endsWith("/test-send"));
    expect(sent?.path).toBe("/api/workflows/welcome/steps/hi/test-send");
    expect(sent?.body).toMatchObject({ to: "ed@example.com", source: { subject: "Hi {{ contact.first_name }}" } });
  });
});

describe("previewFrame", () => {
  it("reads a sample event as a JSON object, or says why not", () => {
    expect(readEvent(' {"cart_id": "c1"} ')).toEqual({ event: { cart_id: "c1" } });
    expect(readEvent("")).toEqual({ event: {} });
    expect(readEvent("[1]")).toHaveProperty("error");
    expect(readEvent("{oops")).toHaveProperty("error");
  });

  it("loads only the server's own preview pages in the frame", () => {
    expect(isFrameUrl(FRAME)).toBe(true);
    for (const url of [null, undefined, "", "https://evil.example/preview-frames/0123456789abcdefghij",
      "javascript:alert(1)", "/preview-frames/../../workflows", "//evil.example/preview-frames/0123456789abcdefghij"]) {
      expect(isFrameUrl(url)).toBe(false);
    }
  });

  it("says so when the server gives HTML but no preview page", async () => {
    server.answer = () => ({ status: 200, json: { subject: "Hi", html: "<p>x</p>", text: null, frame: "https://elsewhere.example/x" } });
    shown();
    await screen.findByText("The server gave no preview page for this message.");
    expect(screen.queryByTitle("Rendered email")).toBeNull();
  });
});
