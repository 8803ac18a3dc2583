// The workflow's own settings beside its steps: its goal (the conversion, within a window of
// entering) and its send-time policies. Pure edits of the spec, like model.ts: a setting
// left empty is left out, never written as null or [], which the server reads as an attempt
// to switch the workspace's rules off (policies can only tighten them).
import type { Spec } from "../canvas/graph";
import { listOf, recordOf, withField, withList, type Values } from "../forms/values";
import type { ProblemOut } from "./problems";

export { recordOf, withField, type Values };
export { NEW_CAP, NEW_PURCHASE, NEW_QUIET } from "../policies/fields";

/** The workflow-wide sections this form edits. */
export type Section = "goal" | "policies";

/** The spec with a section replaced; an undefined or empty one is removed. */
export function withSection(spec: Spec, section: Section, value: Values | undefined): Spec {
  const out: Spec = { ...spec };
  if (value === undefined || Object.keys(value).length === 0) delete out[section];
  else out[section] = value;
  return out;
}

/** A new goal: the event to fill in; the server's defaults (within 7d, exit on reaching it)
 * apply until they are changed. */
export const NEW_GOAL: Values = { event: "" };

/** The workflow's frequency caps, as a list (empty when it has none). */
export function capsOf(policies: Values): Values[] {
  return listOf(policies, "frequency_caps");
}

/** Policies with their caps replaced: no caps at all leaves the field out. */
export function withCaps(policies: Values, caps: Values[]): Values {
  return withList(policies, "frequency_caps", caps);
}

/** Whether a problem's path is in `prefix` (`policies` covers `policies.quiet_hours.start`
 * and `policies.frequency_caps[0].per`). */
export function isUnder(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(`${prefix}.`) || path.startsWith(`${prefix}[`);
}

export function problemsUnder(problems: ProblemOut[], prefix: string): ProblemOut[] {
  return problems.filter((p) => isUnder(p.path, prefix));
}

/** The problem at exactly this field, if any. */
export function problemAtPath(problems: ProblemOut[], path: string): ProblemOut | undefined {
  return problems.find((p) => p.path === path);
}

/** The settings section a problem belongs to, for a problem about no step. */
export function sectionOf(problem: ProblemOut): Section | null {
  if (isUnder(problem.path, "goal")) return "goal";
  if (isUnder(problem.path, "policies")) return "policies";
  return null;
}
