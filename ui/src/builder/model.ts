// The builder's edits, as pure functions from one spec to the next. The spec is the only
// state: the canvas is drawn from it, the YAML view prints it, and undo keeps old ones.
// Positions live in its `layout` field (step id → {x, y}), which the engine ignores.
import { parse, stringify } from "yaml";
import type { Spec, Step, StepType } from "../canvas/graph";
import { TRIGGER_ID } from "../canvas/graph";

export interface Point {
  x: number;
  y: number;
}

export type Layout = Record<string, Point>;

/** The key the trigger's position has in `layout` (steps cannot be called that). */
export const TRIGGER_KEY = "trigger";

export const STEP_TYPES: StepType[] = [
  "send",
  "wait",
  "branch",
  "split",
  "update",
  "webhook",
  "notify",
  "approval",
  "enroll",
  "exit",
  "suppress",
];

/** What each step type does, for the palette's tooltips. */
export const STEP_HELP: Record<StepType, string> = {
  send: "Send an email or text from a template",
  wait: "Wait a while, until a time, or for an event",
  branch: "Go one way or another by a condition",
  split: "Split contacts at random, e.g. for an A/B test",
  update: "Change the contact: fields, tags, score, consent",
  webhook: "Call a URL",
  notify: "Tell your team by email or Slack",
  approval: "Wait for a person to approve",
  enroll: "Start another workflow",
  exit: "End the journey",
  suppress: "Hold the contact back from marketing on a channel, in every workflow",
};

/**
 * The nearest place at or below `at` where a node of `size` overlaps none of `taken`
 * (top-left corners of nodes the same size), so a dropped step never hides another.
 */
export function freeSpot(at: Point, taken: Point[], size: { width: number; height: number }): Point {
  const gap = 24;
  const spot = { ...at };
  for (let tries = 0; tries < 200; tries++) {
    const hit = taken.find(
      (p) => Math.abs(p.x - spot.x) < size.width + gap && Math.abs(p.y - spot.y) < size.height + gap,
    );
    if (!hit) return spot;
    spot.y = hit.y + size.height + gap * 2;
  }
  return spot;
}

/** A new, empty workflow: a trigger to fill in and no steps yet. */
export function emptySpec(key: string, name: string): Spec {
  return { id: key, name, trigger: { type: "event", event: "" }, steps: [], layout: {} };
}

export function stepsOf(spec: Spec): Step[] {
  return Array.isArray(spec.steps) ? spec.steps : [];
}

export function layoutOf(spec: Spec): Layout {
  const found = spec.layout;
  return typeof found === "object" && found !== null && !Array.isArray(found) ? (found as Layout) : {};
}

/** The layout key of a canvas node: steps by id, the trigger by TRIGGER_KEY. */
export function layoutKey(nodeId: string): string {
  return nodeId === TRIGGER_ID ? TRIGGER_KEY : nodeId;
}

/** An id not yet used in the spec, from a base like "wait" → wait, wait_2, wait_3… */
export function freshId(spec: Spec, base: string, taken: Set<string> = new Set()): string {
  const used = new Set([...stepsOf(spec).map((s) => s.id), ...taken, TRIGGER_KEY]);
  if (!used.has(base)) return base;
  for (let n = 2; ; n++) if (!used.has(`${base}_${n}`)) return `${base}_${n}`;
}

/**
 * A new step of a type with what it needs to be sensible. A wait starts without a duration
 * on purpose: the validator then says so on its node until it is given one.
 */
export function newStep(spec: Spec, type: StepType): { step: Step; templates?: Record<string, unknown> } {
  const id = freshId(spec, type);
  switch (type) {
    case "send":
      return {
        step: { id, type, template: id },
        templates: { [id]: { subject: "A message from us", text: "Hello {{ contact.first_name | default: 'there' }}" } },
      };
    case "branch":
      return { step: { id, type, branches: [] } };
    case "split":
      return { step: { id, type, paths: [] } };
    case "webhook":
      return { step: { id, type, url: "https://" } };
    case "notify":
      return { step: { id, type, to: "", message: "" } };
    case "approval":
      return { step: { id, type, message: "", timeout: "2d" } };
    case "enroll":
      return { step: { id, type, workflow: "" } };
    case "suppress":
      return { step: { id, type, channel: "email", reason: "" } };
    default:
      return { step: { id, type } };
  }
}

function withSteps(spec: Spec, steps: Step[], layout: Layout = layoutOf(spec)): Spec {
  return { ...spec, steps, layout };
}

/** Add a step of `type` at `at` on the canvas, listed last. */
export function addStep(spec: Spec, type: StepType, at: Point): { spec: Spec; id: string } {
  const made = newStep(spec, type);
  const templates = { ...(spec.templates as Record<string, unknown> | undefined), ...made.templates };
  const next: Spec = withSteps(spec, [...stepsOf(spec), made.step], { ...layoutOf(spec), [made.step.id]: at });
  return { spec: made.templates ? { ...next, templates } : next, id: made.step.id };
}

/**
 * Add a step on the way out of `after` (a step id, or the trigger): listed right after it,
 * so its implicit "next" now leads to the new step, which goes on where `after` went.
 */
export function insertAfter(spec: Spec, after: string, type: StepType, at: Point): { spec: Spec; id: string } {
  const made = newStep(spec, type);
  const steps = stepsOf(spec);
  const index = after === TRIGGER_ID ? -1 : steps.findIndex((s) => s.id === after);
  const step = { ...made.step };
  const list = steps.map((s) => ({ ...s }));
  const source = index >= 0 ? list[index] : undefined;
  if (source && typeof source.next === "string") {
    step.next = source.next;
    source.next = step.id;
  }
  list.splice(index + 1, 0, step);
  const templates = { ...(spec.templates as Record<string, unknown> | undefined), ...made.templates };
  const next = withSteps(spec, list, { ...layoutOf(spec), [step.id]: at });
  return { spec: made.templates ? { ...next, templates } : next, id: step.id };
}

/**
 * Add a step on the line from `source` to `target` (a step, or the trigger, to a step): listed
 * right before `target`, so it flows on to it. The source's references to the target now name
 * the new step; a step that reached the target only by being listed before it is given an
 * explicit line to it, so it keeps going there.
 */
export function insertOnEdge(
  spec: Spec,
  source: string,
  target: string,
  type: StepType,
  at: Point,
): { spec: Spec; id: string } | null {
  const index = stepsOf(spec).findIndex((s) => s.id === target);
  if (index < 0) return null;
  const made = newStep(spec, type);
  const step = made.step;
  const list = stepsOf(spec).map((s) =>
    s.id === source ? mapReferences(s, (ref) => (ref === target ? step.id : ref)) : { ...s },
  );
  const before = list[index - 1];
  if (before && before.id !== source) {
    if (before.type === "branch") {
      if (before.else === undefined) before.else = target;
    } else if (before.type !== "split" && before.type !== "exit" && before.next === undefined) {
      before.next = target;
    }
  }
  list.splice(index, 0, step);
  const templates = { ...(spec.templates as Record<string, unknown> | undefined), ...made.templates };
  const next = withSteps(spec, list, { ...layoutOf(spec), [step.id]: at });
  return { spec: made.templates ? { ...next, templates } : next, id: step.id };
}

const REFERENCES = ["next", "else", "on_event", "on_timeout", "on_approve", "on_reject"];

/** Every place a step names another step, rewritten by `rename` (undefined: drop it). */
function mapReferences(step: Step, rename: (id: string) => string | undefined): Step {
  const out: Step = { ...step };
  for (const field of REFERENCES) {
    const value = out[field];
    if (typeof value !== "string") continue;
    const to = rename(value);
    if (to === undefined) delete out[field];
    else out[field] = to;
  }
  for (const arms of ["branches", "paths", "events"]) {
    const value = out[arms];
    if (!Array.isArray(value)) continue;
    out[arms] = value.map((arm: unknown) => {
      if (typeof arm !== "object" || arm === null) return arm;
      const rule = { ...(arm as Record<string, unknown>) };
      if (typeof rule.next === "string") {
        const to = rename(rule.next);
        // An awaited event without `next` goes on to the step after the wait; a branch's or
        // split's arm must name one, so it is left empty for the validator to point at.
        if (to === undefined && arms === "events") delete rule.next;
        else rule.next = to ?? "";
      }
      return rule;
    });
  }
  return out;
}

/** Remove steps (the trigger cannot be removed) and every reference to them. */
export function removeSteps(spec: Spec, ids: Iterable<string>): Spec {
  const gone = new Set(ids);
  const steps = stepsOf(spec)
    .filter((s) => !gone.has(s.id))
    .map((s) => mapReferences(s, (id) => (gone.has(id) ? undefined : id)));
  const layout = Object.fromEntries(Object.entries(layoutOf(spec)).filter(([id]) => !gone.has(id)));
  return withSteps(spec, steps, layout);
}

/**
 * Draw a line from `source` to `target`. From the trigger: the target becomes the first step.
 * A branch gains a condition, a split a path; a wait on an event or an approval set their
 * first outcome; any other step sets `next`.
 */
export function connect(spec: Spec, source: string, target: string): Spec {
  const steps = stepsOf(spec).map((s) => ({ ...s }));
  if (target === TRIGGER_ID || source === target) return spec;
  if (source === TRIGGER_ID) {
    const index = steps.findIndex((s) => s.id === target);
    if (index <= 0) return spec;
    const [moved] = steps.splice(index, 1);
    // The step that used to follow it in the list still goes on where it went.
    const before = steps[index - 1];
    if (before && before.next === undefined && before.type !== "exit" && steps[index]) before.next = steps[index].id;
    if (moved && moved.next === undefined && steps[0]) moved.next = steps[0].id;
    return withSteps(spec, moved ? [moved, ...steps] : steps);
  }
  const step = steps.find((s) => s.id === source);
  if (!step || step.type === "exit") return spec;
  switch (step.type) {
    case "branch": {
      const arms = Array.isArray(step.branches) ? step.branches : [];
      step.branches = [...arms, { when: "", next: target }];
      break;
    }
    case "split": {
      const paths = Array.isArray(step.paths) ? step.paths : [];
      step.paths = [...paths, { name: String.fromCharCode(97 + paths.length), percent: 50, next: target }];
      break;
    }
    case "approval":
      step.on_approve = target;
      break;
    default:
      if (step.type === "wait" && typeof step.event === "string") step.on_event = target;
      else step.next = target;
  }
  return withSteps(spec, steps);
}

/** Move nodes: their new positions, rounded to whole pixels. */
export function moveNodes(spec: Spec, moved: Record<string, Point>): Spec {
  const layout = { ...layoutOf(spec) };
  for (const [nodeId, point] of Object.entries(moved)) {
    layout[layoutKey(nodeId)] = { x: Math.round(point.x), y: Math.round(point.y) };
  }
  return { ...spec, layout };
}

/** Change one step (its id included: references to it follow). */
export function updateStep(spec: Spec, id: string, changed: Step): Spec {
  const renamed = changed.id !== id;
  const steps = stepsOf(spec).map((s) => {
    const step = s.id === id ? changed : s;
    return renamed ? mapReferences(step, (ref) => (ref === id ? changed.id : ref)) : step;
  });
  const layout = { ...layoutOf(spec) };
  if (renamed && layout[id]) {
    layout[changed.id] = layout[id];
    delete layout[id];
  }
  return withSteps(spec, steps, layout);
}

export interface Clip {
  steps: Step[];
  layout: Layout;
}

/** The selected steps and their positions, to paste later. */
export function copySteps(spec: Spec, ids: Iterable<string>): Clip {
  const chosen = new Set(ids);
  const layout = layoutOf(spec);
  const steps = stepsOf(spec).filter((s) => chosen.has(s.id));
  return { steps, layout: Object.fromEntries(steps.filter((s) => layout[s.id]).map((s) => [s.id, layout[s.id]!])) };
}

/**
 * Paste copied steps under new ids (send → send_2…), moved by `offset`. Lines between pasted
 * steps are kept, renamed; lines out of the group are dropped, so the copy is its own piece.
 */
export function pasteSteps(spec: Spec, clip: Clip, offset: Point): { spec: Spec; ids: string[] } {
  const names = new Map<string, string>();
  const taken = new Set<string>();
  for (const step of clip.steps) {
    const id = freshId(spec, step.id.replace(/_\d+$/, ""), taken);
    taken.add(id);
    names.set(step.id, id);
  }
  const pasted = clip.steps.map((step) => mapReferences({ ...step, id: names.get(step.id)! }, (ref) => names.get(ref)));
  const layout = { ...layoutOf(spec) };
  clip.steps.forEach((step, i) => {
    const at = clip.layout[step.id] ?? { x: 0, y: i * 120 };
    layout[names.get(step.id)!] = { x: at.x + offset.x, y: at.y + offset.y };
  });
  return { spec: withSteps(spec, [...stepsOf(spec), ...pasted], layout), ids: pasted.map((s) => s.id) };
}

/**
 * The server reads workflows as YAML 1.1 (PyYAML), where a plain `yes`, `off` or `21:00` is a
 * boolean or a number; the console reads and writes the same version, so a string it writes
 * comes back a string and the canvas never shows a value the server would read differently.
 */
const YAML_VERSION = { version: "1.1" } as const;

/** The spec as YAML, in the order people write it (layout last). */
export function toYaml(spec: Spec): string {
  const { layout, ...rest } = spec;
  const ordered = layout && Object.keys(layout as object).length ? { ...rest, layout } : rest;
  return stringify(ordered, { ...YAML_VERSION, lineWidth: 0, flowCollectionPadding: false });
}

/** A spec from YAML text, or the reason it cannot be read. */
export function fromYaml(text: string): { spec: Spec } | { error: string } {
  try {
    const value: unknown = parse(text, YAML_VERSION);
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      return { error: "a workflow is a mapping with id, name, trigger and steps" };
    }
    return { spec: value as Spec };
  } catch (error) {
    return { error: error instanceof Error ? error.message.split("\n")[0]! : String(error) };
  }
}
