// The approvals inbox card: who may decide it, and the one a notice's link opened.
import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { ApprovalCard, type Approval } from "./ApprovalsPage";

const approval: Approval = {
  id: 4,
  enrollment_id: 9,
  contact_id: 7,
  step_id: "ask",
  message: "Call ana@example.com?",
  approvers: ["lead@shop.example"],
  may_decide: false,
  expires_at: "2026-12-07T10:00:00Z",
  context: null,
};

describe("an approval card", () => {
  it("names who decides it, and offers no decision to anyone else", () => {
    render(<ApprovalCard approval={approval} now={new Date()} canDecide={false} busy={false} onDecide={() => undefined} />);
    expect(screen.getByTestId("not-yours").textContent).toBe(
      "Only lead@shop.example, or an owner, may decide this one; you can read it.",
    );
    expect(screen.getByText("lead@shop.example")).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Approve" })).toBeNull();
    expect(screen.queryByLabelText(/Comment/)).toBeNull();
  });

  it("marks the approval a notice's link opened", () => {
    render(
      <ApprovalCard
        approval={{ ...approval, may_decide: true }}
        now={new Date()}
        canDecide={true}
        busy={false}
        onDecide={() => undefined}
        opened={true}
      />,
    );
    const card = screen.getByRole("article", { name: "Approval 4" });
    expect(card.getAttribute("aria-current")).toBe("true");
    expect(screen.queryByTestId("not-yours")).toBeNull();
    expect(screen.getByRole("button", { name: "Approve" })).toBeTruthy();
  });
});
