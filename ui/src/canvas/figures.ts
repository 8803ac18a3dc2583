// The live figures of a step, in the few words a node has room for.
import type { components } from "../api/schema";

export type StepFigures = components["schemas"]["StepFigures"];

function count(n: number): string {
  return n.toLocaleString("en-US");
}

function share(part: number, whole: number): string {
  return `${Math.round((100 * part) / whole)}%`;
}

/** One line for a node, or null when nobody has reached the step yet. */
export function figuresLine(kind: string, f: StepFigures | undefined): string | null {
  if (!f || f.entered === 0) return null;
  if (kind === "send" && f.sent > 0) {
    return `${count(f.sent)} sent · ${share(f.opened, f.sent)} open · ${share(f.clicked, f.sent)} click`;
  }
  return f.waiting > 0 ? `${count(f.entered)} in · ${count(f.waiting)} waiting` : `${count(f.entered)} in`;
}
