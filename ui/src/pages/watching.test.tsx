// Component tests of the contacts, approvals and reports pages: hostile text stays text,
// the why timeline filters, a rate never shows above 100%.
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { ReactNode } from "react";
import { describe, expect, it } from "vitest";
import { ApprovalCard, type Approval } from "./approvals/ApprovalsPage";
import { Profile, WhyTimeline } from "./contacts/ContactPage";
import { ContactsTable } from "./contacts/ContactsPage";
import { Funnel, WorkflowsReport } from "./reports/ReportsPage";
import type { WorkflowFigures } from "./reports/types";

const HOSTILE = "<img src=x onerror=alert(1)>";

function wrap(children: ReactNode) {
  return <QueryClientProvider client={new QueryClient()}>{children}</QueryClientProvider>;
}

const contact = {
  id: 7,
  user_id: HOSTILE,
  anonymous_id: null,
  email: "ana@example.com",
  phone: null,
  timezone: "Europe/Paris",
  attributes: { plan: HOSTILE, [HOSTILE]: "value" },
  tags: [HOSTILE],
  consent: { email: "subscribed", "topic:news": "unsubscribed" },
  score: 12,
  scores: { fit: 3 },
  created_at: "2026-12-01T10:00:00Z",
  updated_at: "2026-12-02T10:00:00Z",
  events: [],
  enrollments: [],
  steps: [],
  segments: ["vip"],
};

describe("a contact", () => {
  it("shows hostile traits and tags as text, with consent per channel and per topic", () => {
    const { container } = render(wrap(<Profile contact={contact} />));
    expect(screen.getAllByText(HOSTILE).length).toBe(4); // user id, a trait's value and name, a tag
    expect(container.querySelector("img")).toBeNull();
    expect(screen.getByText("news").nextSibling?.textContent).toBe("unsubscribed");
    expect(screen.getByText("email").nextSibling?.textContent).toBe("subscribed");
    expect(screen.getByRole("link", { name: "vip" }).getAttribute("href")).toBe("/contacts?segment=vip");
  });

  it("lists hostile user ids as text", () => {
    const { container } = render(wrap(<ContactsTable rows={[contact]} filtered={false} />));
    expect(screen.getAllByText(HOSTILE).length).toBe(2);
    expect(container.querySelector("img")).toBeNull();
  });

  it("says what to do when there is no contact, and when a filter finds none", () => {
    const { unmount } = render(wrap(<ContactsTable rows={[]} filtered={false} />));
    expect(screen.getByText("tidings contacts import contacts.csv")).toBeTruthy();
    unmount();
    render(wrap(<ContactsTable rows={[]} filtered={true} />));
    expect(screen.getByText("No contact matches these filters")).toBeTruthy();
  });

  it("tells why and why not, and shows only one kind on request", async () => {
    const steps = [
      { at: "2026-12-01T10:00:00Z", workflow: "welcome", enrollment_id: 1, step_id: null, action: "enrolled", detail: "" },
      {
        at: "2026-12-01T10:01:00Z",
        workflow: "welcome",
        enrollment_id: 1,
        step_id: "mail",
        action: "held",
        detail: `no email marketing consent ${HOSTILE}`,
      },
    ];
    const { container } = render(wrap(<WhyTimeline steps={steps} />));
    const timeline = screen.getByTestId("why");
    expect(within(timeline).getAllByRole("listitem").map((li) => li.querySelector("strong")?.textContent)).toEqual([
      "held",
      "enrolled",
    ]);
    expect(container.querySelector("img")).toBeNull();
    await userEvent.click(screen.getByRole("button", { name: "Why not" }));
    expect(within(screen.getByTestId("why")).getAllByRole("listitem")).toHaveLength(1);
    expect(screen.getByText(`no email marketing consent ${HOSTILE}`)).toBeTruthy();
  });
});

describe("an approval", () => {
  const approval: Approval = {
    id: 3,
    enrollment_id: 9,
    contact_id: 7,
    step_id: "ask",
    message: `Call ${HOSTILE}?`,
    approvers: [],
    may_decide: true,
    expires_at: "2026-12-07T10:00:00Z",
    context: {
      workflow: "handoff",
      workflow_name: "Sales hand-off",
      version: 2,
      contact: { id: 7, email: "ana@example.com", user_id: "ana", name: "Ana" },
      preview: { step_id: "hi", channel: "email", template: "hi", subject: HOSTILE, text: "About it.", problem: null },
    },
  };

  it("shows its context, deadline and preview, and sends the comment with the decision", async () => {
    const decided: [string, string][] = [];
    const { container } = render(
      wrap(
        <ApprovalCard
          approval={approval}
          now={new Date("2026-12-05T10:00:00Z")}
          canDecide={true}
          busy={false}
          onDecide={(d, c) => decided.push([d, c])}
        />,
      ),
    );
    expect(screen.getByText("Decide in 2 days")).toBeTruthy();
    expect(screen.getByText(`Call ${HOSTILE}?`)).toBeTruthy();
    expect(screen.getByText(HOSTILE).className).toBe("preview__subject");
    expect(container.querySelector("img")).toBeNull();
    await userEvent.type(screen.getByRole("textbox"), "fine by me");
    await userEvent.click(screen.getByRole("button", { name: "Approve" }));
    expect(decided).toEqual([["approve", "fine by me"]]);
  });

  it("cannot be decided by someone who may not", () => {
    render(
      wrap(<ApprovalCard approval={approval} now={new Date()} canDecide={false} busy={false} onDecide={() => undefined} />),
    );
    // Nothing to press: the card is there to read.
    expect(screen.queryByRole("button", { name: "Approve" })).toBeNull();
    expect(screen.queryByRole("button", { name: "Reject" })).toBeNull();
    expect(screen.queryByRole("textbox")).toBeNull();
  });
});

describe("reports", () => {
  const base = {
    entered: 10, sent: 8, delivered: 4, opened: 6, clicked: 2, converted: 3, revenue: 50,
    unsubscribed: 0, bounced: 0, resends: 0, exited: 5, waiting: 1,
  };
  const workflow: WorkflowFigures = {
    ...base,
    key: "welcome",
    name: HOSTILE,
    version: 1,
    status: "active",
    has_goal: true,
    completed: 0,
    steps: [{ ...base, step_id: "mail", kind: "send", left: 1, drop_off: 0.1 }],
    versions: [],
    days: [],
  };

  it("never shows a rate above 100%, and names workflows as text", () => {
    const { container } = render(wrap(<WorkflowsReport rows={[workflow]} />));
    const cells = [...container.querySelectorAll("td")].map((td) => td.textContent ?? "");
    expect(cells).toContain("—"); // 6 opened of 4 delivered is not a rate
    expect(cells).toContain("50.0%"); // 2 clicked of 4 delivered
    expect(cells).toContain("30.0%"); // 3 converted of 10 entered
    expect(cells.every((text) => !/\b(1\d{3}|[2-9]\d{2}|1[0-9][1-9])\.\d%/.test(text))).toBe(true);
    expect(screen.getByText(HOSTILE)).toBeTruthy();
    expect(container.querySelector("img")).toBeNull();
  });

  it("draws each step's funnel bar from the workflow's entries", () => {
    const { container } = render(wrap(<Funnel workflow={{ ...workflow, steps: [{ ...workflow.steps[0]!, entered: 5 }] }} />));
    expect(container.querySelector(".bar__fill")?.getAttribute("width")).toBe("50");
  });

  it("says what to do when nothing has run", () => {
    render(wrap(<WorkflowsReport rows={[]} />));
    expect(screen.getByText("No workflow has run in this period")).toBeTruthy();
  });
});
