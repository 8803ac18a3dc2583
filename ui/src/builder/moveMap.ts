// The move plan's step map: which step of an older version the journeys waiting there go to
// in the new one, for steps renamed, removed or changed (the CLI's `--map old=new`). Pure.
import type { components } from "../api/schema";
import type { Spec } from "../canvas/graph";

export type MigrationLine = components["schemas"]["MigrationLine"];
export type StepMap = Record<string, string>;

/** Steps of older versions whose journeys a map can send somewhere: those where journeys
 * would stay, and those already mapped (so a choice can be changed back). */
export function mappableSteps(lines: MigrationLine[], map: StepMap): string[] {
  const found = new Set(lines.filter((l) => l.to_step === null).map((l) => l.from_step));
  for (const from of Object.keys(map)) found.add(from);
  return [...found].sort();
}

/** Steps of the new version that can take waiting journeys: its waits and approvals. */
export function mapTargets(spec: Spec): string[] {
  const steps = Array.isArray(spec.steps) ? spec.steps : [];
  return steps.filter((s) => s.type === "wait" || s.type === "approval").map((s) => s.id);
}

/** The map with `from` sent to `to`; an empty `to` takes the entry out. */
export function withMapping(map: StepMap, from: string, to: string): StepMap {
  const out = { ...map };
  if (to) out[from] = to;
  else delete out[from];
  return out;
}
