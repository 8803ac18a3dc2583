// The newer step features on the canvas: the suppress step, waits for any of several events,
// relative waits (`at:` with if_missing / if_past), and per_key entry. Shapes from
// core/spec.py; a spec with them opens on the canvas and exports the same.
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { specToGraph, stepSummary } from "../canvas/graph";
import { fromYaml, moveNodes, removeSteps, toYaml, updateStep, type Point } from "./model";

const SOURCE = `id: webinar
name: Webinar reminders
trigger: {type: event, event: registered}
entry:
  reentry: per_key
  key: event.webinar_id
  per_key: one_at_a_time
templates:
  remind: {subject: Starts soon, text: See you}
  thanks: {subject: Thanks, text: Thanks for coming}
steps:
  - id: before
    type: wait
    at: event.starts_at - 1h
    if_missing: go_on
    if_past: exit
  - {id: remind, type: send, template: remind}
  - id: attended
    type: wait
    events:
      - {event: joined, next: thanks}
      - {event: unsubscribed, where: 'event.reason == "spam"', next: hold}
    timeout: 2d
    on_timeout: done
  - {id: thanks, type: send, template: thanks, next: done}
  - {id: hold, type: suppress, channel: email, reason: complained}
  - {id: done, type: exit}
`;

function opened() {
  const read = fromYaml(SOURCE);
  if (!("spec" in read)) throw new Error(read.error);
  return read.spec;
}

describe("the newer step features", () => {
  it("draws a wait for several events with a line per event and one for the timeout", () => {
    const graph = specToGraph(opened());
    const from = (id: string) => graph.edges.filter((e) => e.source === id).map((e) => [e.label, e.target]);
    expect(from("attended")).toEqual([
      ["on joined", "thanks"],
      ["on unsubscribed", "hold"],
      ["after 2d", "done"],
    ]);
    expect(graph.nodes.find((n) => n.id === "hold")?.kind).toBe("suppress");
    expect(from("hold")).toEqual([["", "done"]]);
  });

  it("draws a relative wait with where a missing or past moment leads", () => {
    const graph = specToGraph(opened());
    const before = graph.edges.filter((e) => e.source === "before").map((e) => [e.label, e.target]);
    expect(before).toEqual([
      ["", "remind"],
      ["date passed", "__end"],
    ]);
    const step = opened().steps!.find((s) => s.id === "before")!;
    expect(stepSummary(step)).toBe("until event.starts_at - 1h");
  });

  it("exports the same spec it opened, and edits elsewhere keep every new field", () => {
    const spec = opened();
    const back = parse(toYaml(spec)) as Record<string, unknown>;
    delete back.layout; // positions the canvas added; the engine ignores them
    expect(back).toEqual(parse(SOURCE));
    const moved = moveNodes(spec, { remind: { x: 10, y: 20 } as Point });
    const edited = updateStep(moved, "remind", { id: "remind", type: "send", template: "remind", topic: "events" });
    const again = parse(toYaml(edited)) as Record<string, unknown>;
    expect(again.entry).toEqual({ reentry: "per_key", key: "event.webinar_id", per_key: "one_at_a_time" });
    expect((again.steps as Record<string, unknown>[])[0]).toEqual({
      id: "before",
      type: "wait",
      at: "event.starts_at - 1h",
      if_missing: "go_on",
      if_past: "exit",
    });
  });

  it("removing a step an awaited event leads to lets that event go on to the next step", () => {
    const spec = removeSteps(opened(), ["hold"]);
    const attended = spec.steps!.find((s) => s.id === "attended")!;
    expect(attended.events).toEqual([{ event: "joined", next: "thanks" }, { event: "unsubscribed", where: 'event.reason == "spam"' }]);
  });
});
