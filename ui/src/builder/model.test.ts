import { describe, expect, it } from "vitest";
import { specToGraph, TRIGGER_ID, type Spec } from "../canvas/graph";
import { layout, NODE_HEIGHT, withStored } from "../canvas/layout";
import { push, redo, start, undo, HISTORY_LIMIT } from "./history";
import {
  addStep,
  connect,
  copySteps,
  emptySpec,
  freeSpot,
  fromYaml,
  insertAfter,
  insertOnEdge,
  moveNodes,
  pasteSteps,
  removeSteps,
  toYaml,
  updateStep,
} from "./model";
import { byNode } from "./problems";

function cart(): Spec {
  let spec = emptySpec("cart", "Abandoned cart");
  spec = { ...spec, trigger: { type: "event", event: "cart_abandoned" } };
  spec = addStep(spec, "wait", { x: 0, y: 120 }).spec;
  spec = addStep(spec, "send", { x: 0, y: 240 }).spec;
  return spec;
}

describe("building a spec", () => {
  it("adds steps under fresh ids, with their positions in layout", () => {
    const spec = cart();
    const again = addStep(spec, "wait", { x: 5, y: 6 });
    expect(again.id).toBe("wait_2");
    expect(spec.steps!.map((s) => s.id)).toEqual(["wait", "send"]);
    expect(spec.layout).toEqual({ wait: { x: 0, y: 120 }, send: { x: 0, y: 240 } });
    // A send step comes with a template it can use.
    expect(spec.templates).toHaveProperty("send.subject");
  });

  it("draws the trigger to the first step, and steps in their listed order", () => {
    const graph = specToGraph(cart());
    expect(graph.edges.map((e) => `${e.source}->${e.target}`)).toEqual([
      `${TRIGGER_ID}->wait`,
      "wait->send",
      "send->__end",
    ]);
  });

  it("inserts a step on the way out of another, keeping where it went", () => {
    const spec = updateStep(cart(), "wait", { id: "wait", type: "wait", for: "1h", next: "send" });
    const made = insertAfter(spec, "wait", "update", { x: 0, y: 0 });
    const steps = made.spec.steps!;
    expect(steps.map((s) => s.id)).toEqual(["wait", "update", "send"]);
    expect(steps[0]!.next).toBe("update");
    expect(steps[1]!.next).toBe("send");
  });

  it("adds a step on a line, and other steps keep their own lines", () => {
    // wait reaches send by being listed before it; the branch names send.
    let spec = addStep(cart(), "branch", { x: 0, y: 0 }).spec;
    spec = updateStep(spec, "branch", { id: "branch", type: "branch", branches: [{ when: "x", next: "send" }] });
    spec = connect(spec, TRIGGER_ID, "branch");
    expect(spec.steps!.map((s) => s.id)).toEqual(["branch", "wait", "send"]);
    const made = insertOnEdge(spec, "branch", "send", "update", { x: 1, y: 2 })!;
    const edges = specToGraph(made.spec).edges.map((e) => `${e.source}->${e.target}`);
    expect(edges).toEqual(expect.arrayContaining(["branch->update", "update->send", "wait->send"]));
    expect(edges).not.toContain("wait->update");
    // On the trigger's line: the new step becomes the first.
    const first = insertOnEdge(cart(), TRIGGER_ID, "wait", "exit", { x: 0, y: 0 })!;
    expect(first.spec.steps!.map((s) => s.id)).toEqual(["exit", "wait", "send"]);
    expect(insertOnEdge(cart(), "send", "__end", "exit", { x: 0, y: 0 })).toBeNull();
  });

  it("connects a branch by adding a condition, and a plain step by its next", () => {
    let spec = addStep(cart(), "branch", { x: 0, y: 0 }).spec;
    spec = connect(spec, "branch", "wait");
    const branch = spec.steps!.find((s) => s.id === "branch")!;
    expect(branch.branches).toEqual([{ when: "", next: "wait" }]);
    spec = connect(spec, "send", "branch");
    expect(spec.steps!.find((s) => s.id === "send")!.next).toBe("branch");
  });

  it("connecting the trigger makes that step the first", () => {
    const spec = connect(cart(), TRIGGER_ID, "send");
    expect(spec.steps!.map((s) => s.id)).toEqual(["send", "wait"]);
    expect(specToGraph(spec).edges[0]).toMatchObject({ source: TRIGGER_ID, target: "send" });
  });

  it("removes steps with every line to them and their positions", () => {
    let spec = updateStep(cart(), "wait", { id: "wait", type: "wait", for: "1h", next: "send" });
    spec = removeSteps(spec, ["send"]);
    expect(spec.steps).toEqual([{ id: "wait", type: "wait", for: "1h" }]);
    expect(Object.keys(spec.layout as object)).toEqual(["wait"]);
  });

  it("renaming a step renames the lines to it and its position", () => {
    let spec = updateStep(cart(), "wait", { id: "wait", type: "wait", for: "1h", next: "send" });
    spec = updateStep(spec, "send", { ...spec.steps![1]!, id: "nudge" });
    expect(spec.steps![0]!.next).toBe("nudge");
    expect(spec.layout).toHaveProperty("nudge");
    expect(spec.layout).not.toHaveProperty("send");
  });

  it("moves the trigger under the layout key the server accepts", () => {
    const spec = moveNodes(cart(), { [TRIGGER_ID]: { x: 10.4, y: -3.6 } });
    expect((spec.layout as Record<string, unknown>).trigger).toEqual({ x: 10, y: -4 });
  });
});

describe("dropping a step", () => {
  it("moves it below the nodes it would hide, and leaves it where it fell otherwise", () => {
    const size = { width: 100, height: 50 };
    const taken = [{ x: 0, y: 0 }, { x: 0, y: 98 }];
    expect(freeSpot({ x: 10, y: 10 }, taken, size)).toEqual({ x: 10, y: 196 });
    expect(freeSpot({ x: 300, y: 10 }, taken, size)).toEqual({ x: 300, y: 10 });
  });
});

describe("copy and paste", () => {
  it("pastes a group under new ids, keeping the lines inside it and dropping the rest", () => {
    let spec = updateStep(cart(), "wait", { id: "wait", type: "wait", for: "1h", next: "send" });
    spec = addStep(spec, "exit", { x: 0, y: 360 }).spec;
    spec = updateStep(spec, "send", { ...spec.steps![1]!, next: "exit" });
    const clip = copySteps(spec, ["wait", "send"]);
    const pasted = pasteSteps(spec, clip, { x: 40, y: 40 });
    expect(pasted.ids).toEqual(["wait_2", "send_2"]);
    const [wait2, send2] = pasted.spec.steps!.slice(-2);
    expect(wait2).toMatchObject({ id: "wait_2", next: "send_2", for: "1h" });
    expect(send2).not.toHaveProperty("next");
    expect((pasted.spec.layout as Record<string, unknown>).send_2).toEqual({ x: 40, y: 280 });
    // A second paste takes the next free ids.
    expect(pasteSteps(pasted.spec, clip, { x: 0, y: 0 }).ids).toEqual(["wait_3", "send_3"]);
  });
});

describe("YAML both ways", () => {
  it("prints the spec and reads it back the same, layout included", () => {
    const spec = cart();
    const text = toYaml(spec);
    expect(text.indexOf("layout:")).toBeGreaterThan(text.indexOf("steps:"));
    expect(fromYaml(text)).toEqual({ spec });
  });

  it("reads and writes YAML as the server does (1.1), so a string stays a string", () => {
    const spec = { ...cart(), policies: { quiet_hours: { start: "21:00", end: "08:00" } }, name: "yes" };
    const text = toYaml(spec);
    expect(text).toContain('"21:00"');
    expect(text).toContain('name: "yes"');
    expect(fromYaml(text)).toEqual({ spec });
    // Typed plain, these are what PyYAML reads too: a boolean and a base-60 number.
    expect(fromYaml("id: a\nflag: yes\nat: 21:00")).toEqual({ spec: { id: "a", flag: true, at: 1260 } });
  });

  it("says why text cannot be read", () => {
    const read = fromYaml("steps: [\n  {id: a");
    expect(read).toHaveProperty("error");
    expect(fromYaml("- a list")).toEqual({ error: "a workflow is a mapping with id, name, trigger and steps" });
  });
});

describe("undo and redo", () => {
  it("goes back and forth, and a new edit forgets what was undone", () => {
    let h = push(push(start(1), 2), 3);
    h = undo(undo(h));
    expect(h.present).toBe(1);
    h = redo(h);
    expect(h.present).toBe(2);
    h = push(h, 9);
    expect(h.future).toEqual([]);
    expect(redo(h)).toBe(h);
    expect(undo(start(1))).toEqual(start(1));
  });

  it("keeps a bounded past", () => {
    let h = start(0);
    for (let i = 1; i <= HISTORY_LIMIT + 50; i++) h = push(h, i);
    expect(h.past).toHaveLength(HISTORY_LIMIT);
  });
});

describe("problems on nodes", () => {
  it("puts each problem on its step, trigger problems on the trigger", () => {
    const grouped = byNode([
      { step_id: "wait", path: "steps[0].for", message: "m", hint: "", severity: "error" },
      { step_id: "trigger", path: "trigger.event", message: "m", hint: "", severity: "error" },
      { step_id: null, path: "name", message: "m", hint: "", severity: "error" },
    ]);
    expect([...grouped.keys()]).toEqual(["wait", TRIGGER_ID]);
  });
});

describe("positions", () => {
  it("uses stored places, and draws the end under the lowest step leading to it", () => {
    const spec = moveNodes(cart(), { [TRIGGER_ID]: { x: 5, y: -100 } });
    const graph = specToGraph(spec);
    const at = withStored(graph, layout(graph), spec.layout as Record<string, { x: number; y: number }>);
    expect(at.get(TRIGGER_ID)).toEqual({ x: 5, y: -100 });
    expect(at.get("send")).toEqual({ x: 0, y: 240 });
    expect(at.get("__end")).toEqual({ x: 0, y: 240 + NODE_HEIGHT + 64 });
  });
});
