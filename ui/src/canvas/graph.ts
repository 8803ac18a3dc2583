// A workflow spec as a graph: the trigger and every step as nodes, every way on as an edge.
// It follows the engine's own reading of a spec (core/graph.py): a step without `next` goes
// on to the step listed after it, and the last step ends the journey.

export type StepType =
  | "send"
  | "wait"
  | "branch"
  | "split"
  | "update"
  | "webhook"
  | "notify"
  | "approval"
  | "enroll"
  | "exit"
  | "suppress";

export type NodeKind = StepType | "trigger" | "end" | "unknown";

export type Step = Record<string, unknown> & { id: string; type: string };

export interface Spec {
  id?: string;
  name?: string;
  trigger?: Record<string, unknown>;
  steps?: Step[];
  [field: string]: unknown;
}

export interface FlowNode {
  id: string;
  kind: NodeKind;
  title: string;
  summary: string;
  /** The step (or trigger) as written in the spec, for the settings panel. */
  settings: Record<string, unknown>;
}

export interface FlowEdge {
  id: string;
  source: string;
  target: string;
  label: string;
}

export interface FlowGraph {
  nodes: FlowNode[];
  edges: FlowEdge[];
}

export const TRIGGER_ID = "__trigger";
export const END_ID = "__end";

const STEP_TYPES: ReadonlySet<string> = new Set([
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
]);

function text(value: unknown): string | null {
  return typeof value === "string" && value !== "" ? value : null;
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function shorten(value: string, limit = 48): string {
  return value.length > limit ? `${value.slice(0, limit - 1)}…` : value;
}

export const STEP_LABELS: Record<NodeKind, string> = {
  trigger: "Trigger",
  send: "Send",
  wait: "Wait",
  branch: "Branch",
  split: "Split",
  update: "Update contact",
  webhook: "Webhook",
  notify: "Notify",
  approval: "Approval",
  enroll: "Enroll",
  exit: "Exit",
  suppress: "Suppress",
  end: "End",
  unknown: "Step",
};

function triggerSummary(trigger: Record<string, unknown>): string {
  const type = text(trigger.type) ?? "event";
  switch (type) {
    case "event":
      return `When ${text(trigger.event) ?? "an event"} happens`;
    case "date":
      return `On the date in ${text(trigger.field) ?? "a field"}`;
    case "inactivity":
      return `After ${text(trigger.for) ?? "a while"} without ${text(trigger.event) ?? "activity"}`;
    case "segment":
      return `On ${text(trigger.direction) ?? "enter"}ing segment ${text(trigger.segment) ?? ""}`;
    case "score":
      return `Score crosses ${text(trigger.threshold) ?? "a threshold"}`;
    case "enrolled":
      return "Enrolled by another workflow";
    default:
      return type;
  }
}

export function stepSummary(step: Step): string {
  switch (step.type) {
    case "send": {
      const variants = list(step.variants).length;
      const what = variants ? `A/B test, ${variants} variants` : (text(step.template) ?? "a message");
      return `${text(step.channel) ?? "email"} · ${what}`;
    }
    case "wait": {
      const awaited = list(step.events).map((e) => text(record(e).event) ?? "?");
      if (awaited.length) return `for ${awaited.join(" or ")}, at most ${text(step.timeout) ?? "?"}`;
      if (text(step.event)) return `for ${text(step.event)}, at most ${text(step.timeout) ?? "?"}`;
      if (text(step.at)) return `until ${text(step.at)}${text(step.at_time) ? ` at ${text(step.at_time)}` : ""}`;
      if (text(step.for)) return `for ${text(step.for)}`;
      const until = record(step.until);
      if (text(until.time)) {
        const days = list(until.weekdays).join(", ");
        return `until ${text(until.time)}${days ? ` on ${days}` : ""}`;
      }
      return "a while";
    }
    case "branch": {
      const arms = list(step.branches).length;
      return `${arms} condition${arms === 1 ? "" : "s"}, else the rest`;
    }
    case "split":
      return list(step.paths)
        .map((path) => `${text(record(path).name) ?? "?"} ${String(record(path).percent ?? "")}%`)
        .join(" · ");
    case "update": {
      const parts: string[] = [];
      const added = list(step.add_tags);
      if (added.length) parts.push(`tag ${added.join(", ")}`);
      const removed = list(step.remove_tags);
      if (removed.length) parts.push(`untag ${removed.join(", ")}`);
      const set = Object.keys(record(step.set));
      if (set.length) parts.push(`set ${set.join(", ")}`);
      if (typeof step.score === "number") parts.push(`score ${step.score > 0 ? "+" : ""}${step.score}`);
      if (Object.keys(record(step.consent)).length) parts.push("consent");
      return parts.join(" · ") || "no change";
    }
    case "webhook":
      return `${text(step.method) ?? "POST"} ${shorten(text(step.url) ?? "", 36)}`;
    case "notify":
      return `${text(step.channel) ?? "email"} to ${text(step.to) ?? "?"}`;
    case "approval":
      return `${shorten(text(step.message) ?? "needs approval", 32)} · ${text(step.timeout) ?? ""}`;
    case "enroll":
      return `into ${text(step.workflow) ?? "?"}`;
    case "exit":
      return text(step.reason) ?? "journey ends";
    case "suppress":
      return `${text(step.channel) ?? "email"} · ${shorten(text(step.reason) ?? "no reason given", 32)}`;
    default:
      return step.type;
  }
}

/** The nodes and labelled edges of a spec, in the spec's order. */
export function specToGraph(spec: Spec): FlowGraph {
  const steps = list(spec.steps).filter(
    (s): s is Step => typeof record(s).id === "string" && record(s).id !== "",
  );
  const ids = new Set(steps.map((s) => s.id));
  const nodes: FlowNode[] = [];
  const edges: FlowEdge[] = [];
  let endsSomewhere = false;

  const trigger = record(spec.trigger);
  nodes.push({
    id: TRIGGER_ID,
    kind: "trigger",
    title: STEP_LABELS.trigger,
    summary: triggerSummary(trigger),
    settings: trigger,
  });

  const connect = (source: string, target: string | null, label: string, n: number): void => {
    const to = target !== null && ids.has(target) ? target : END_ID;
    if (to === END_ID) endsSomewhere = true;
    // Two ways to the same step are one line with both labels, not two lines drawn as one.
    const same = edges.find((e) => e.source === source && e.target === to);
    if (same) {
      same.label = [same.label, label].filter(Boolean).join(" · ");
      return;
    }
    edges.push({ id: `${source}->${to}#${n}`, source, target: to, label });
  };

  if (steps[0]) connect(TRIGGER_ID, steps[0].id, "", 0);

  steps.forEach((step, i) => {
    const following = steps[i + 1]?.id ?? null;
    const next = text(step.next) ?? following;
    const kind: NodeKind = STEP_TYPES.has(step.type) ? (step.type as StepType) : "unknown";
    nodes.push({ id: step.id, kind, title: step.id, summary: stepSummary(step), settings: step });
    switch (kind) {
      case "exit":
        break;
      case "branch":
        list(step.branches).forEach((arm, j) => {
          const rule = record(arm);
          connect(step.id, text(rule.next), shorten(text(rule.when) ?? "when", 32), j);
        });
        connect(step.id, text(step.else) ?? following, "else", list(step.branches).length);
        break;
      case "split":
        list(step.paths).forEach((path, j) => {
          const p = record(path);
          const holdout = p.holdout === true ? " (holdout)" : "";
          connect(step.id, text(p.next), `${text(p.name) ?? "path"} ${String(p.percent ?? "")}%${holdout}`, j);
        });
        break;
      case "wait":
        if (list(step.events).length) {
          // Whichever event comes first leads its own way; the timeout leads another.
          list(step.events).forEach((awaited, j) => {
            const rule = record(awaited);
            connect(step.id, text(rule.next) ?? next, `on ${text(rule.event) ?? "?"}`, j);
          });
          connect(step.id, text(step.on_timeout) ?? next, `after ${text(step.timeout) ?? "timeout"}`, list(step.events).length);
        } else if (text(step.at)) {
          // A missing moment leaves by default (if_missing: exit); a past one goes on.
          connect(step.id, next, "", 0);
          if (text(step.if_missing) !== "go_on" || text(step.if_past) === "exit") {
            const why = [text(step.if_missing) !== "go_on" ? "no date" : "", text(step.if_past) === "exit" ? "date passed" : ""];
            connect(step.id, null, why.filter(Boolean).join(" · "), 1);
          }
        } else if (text(step.event)) {
          connect(step.id, text(step.on_event) ?? next, `on ${text(step.event)}`, 0);
          connect(step.id, text(step.on_timeout) ?? next, `after ${text(step.timeout) ?? "timeout"}`, 1);
        } else {
          connect(step.id, next, "", 0);
        }
        break;
      case "approval":
        connect(step.id, text(step.on_approve) ?? next, "approved", 0);
        connect(step.id, text(step.on_reject), "rejected", 1);
        connect(step.id, text(step.on_timeout), "timed out", 2);
        break;
      default:
        connect(step.id, next, "", 0);
    }
  });

  if (endsSomewhere) {
    nodes.push({ id: END_ID, kind: "end", title: "End", summary: "the journey ends", settings: {} });
  }
  return { nodes, edges };
}
