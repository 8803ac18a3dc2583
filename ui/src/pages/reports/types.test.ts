import { describe, expect, it } from "vitest";
import { findingWorkflow, type Finding } from "./types";

const finding = (subject: string): Finding => ({ kind: "stall", subject, summary: "", advice: "", numbers: {} });
const workflows = [{ key: "welcome" }, { key: "reengagement" }];

describe("findingWorkflow", () => {
  it("links a finding about a workflow to that workflow", () => {
    expect(findingWorkflow(finding("reengagement"), workflows)).toBe("reengagement");
  });
  it("links a finding about one step to the step's workflow", () => {
    expect(findingWorkflow(finding("reengagement > wait_for_visit"), workflows)).toBe("reengagement");
  });
  it("links nothing when the subject is not a workflow of the report", () => {
    expect(findingWorkflow(finding("contacts"), workflows)).toBeNull();
    expect(findingWorkflow(finding("week of 2026-03-02"), workflows)).toBeNull();
    expect(findingWorkflow(finding("gone > step"), workflows)).toBeNull();
  });
});
