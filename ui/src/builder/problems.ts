// The validator's problems, as the builder shows them: on their node and in a list.
import type { components } from "../api/schema";
import { TRIGGER_ID } from "../canvas/graph";
import { TRIGGER_KEY } from "./model";

export type ProblemOut = components["schemas"]["ProblemOut"];

/** The canvas node a problem sits on, or null when it is about the whole workflow. */
export function nodeOf(problem: ProblemOut): string | null {
  if (problem.step_id === null || problem.step_id === undefined) return null;
  return problem.step_id === TRIGGER_KEY ? TRIGGER_ID : problem.step_id;
}

/** Problems grouped by the node they sit on. */
export function byNode(problems: ProblemOut[]): Map<string, ProblemOut[]> {
  const found = new Map<string, ProblemOut[]>();
  for (const problem of problems) {
    const node = nodeOf(problem);
    if (node === null) continue;
    found.set(node, [...(found.get(node) ?? []), problem]);
  }
  return found;
}
