import { describe, expect, it } from "vitest";
import type { Spec } from "../canvas/graph";
import type { ProblemOut } from "./problems";
import { NEW_CAP, capsOf, isUnder, problemsUnder, sectionOf, withCaps, withField, withSection } from "./settings";

const spec: Spec = { id: "w", name: "W", trigger: { event: "x" }, steps: [] };
const problem = (path: string): ProblemOut => ({ step_id: null, path, message: "m", hint: "", severity: "error" });

describe("the workflow's settings", () => {
  it("sets a section, and leaves an emptied one out rather than null", () => {
    const withGoal = withSection(spec, "goal", { event: "order_completed" });
    expect(withGoal.goal).toEqual({ event: "order_completed" });
    expect("goal" in withSection(withGoal, "goal", undefined)).toBe(false);
    // Empty policies are no policies: never `policies: {}` nor a switch-off.
    expect("policies" in withSection({ ...spec, policies: { transactional: true } }, "policies", {})).toBe(false);
  });

  it("removes the caps field with the last cap, never writing an empty list the server reads as switching caps off", () => {
    const one = withCaps({}, [NEW_CAP]);
    expect(capsOf(one)).toEqual([NEW_CAP]);
    const none = withCaps({ ...one, transactional: true }, []);
    expect(none).toEqual({ transactional: true });
    expect(withField({ a: 1 }, "a", undefined)).toEqual({});
  });

  it("files the validator's problems under the goal or the policies", () => {
    const found = [problem("goal.where"), problem("policies.frequency_caps[0].per"), problem("policies"), problem("goalkeeper"), problem("steps[0].x")];
    expect(problemsUnder(found, "policies").map((p) => p.path)).toEqual(["policies.frequency_caps[0].per", "policies"]);
    expect(found.map(sectionOf)).toEqual(["goal", "policies", "policies", null, null]);
    expect(isUnder("policies.frequency_caps[0]", "policies.frequency_caps")).toBe(true);
  });
});
