import { describe, expect, it } from "vitest";
import { specToGraph, type Spec } from "./graph";
import { NODE_HEIGHT, NODE_WIDTH, layout, layoutWithRoutes, openingNodes } from "./layout";
import { routedPath } from "./RoutedEdge";

const chain = (n: number): Spec => ({
  id: "deep",
  trigger: { event: "signed_up" },
  steps: Array.from({ length: n }, (_, i) => ({ id: `wait_${i}`, type: "wait", duration: "1d" })),
});

const placed = (spec: Spec) => {
  const graph = specToGraph(spec);
  const positions = layout(graph);
  return graph.nodes.map((node) => ({ id: node.id, y: positions.get(node.id)?.y ?? 0 }));
};

describe("openingNodes", () => {
  it("fits a shallow workflow whole", () => {
    expect(openingNodes(placed(chain(1)))).toBeUndefined();
  });
  it("opens a deep workflow on its first three ranks, the trigger first", () => {
    const opening = openingNodes(placed(chain(8)));
    expect(opening?.map((n) => n.id)).toEqual(["__trigger", "wait_0", "wait_1"]);
  });
  it("has nothing to open on an empty canvas", () => {
    expect(openingNodes([])).toBeUndefined();
  });
});

describe("lines that cross ranks", () => {
  // A rejected approval ends the journey; the send it would have made sits between.
  const handoff: Spec = {
    id: "handoff",
    trigger: { event: "demo_requested" },
    steps: [
      { id: "ask", type: "approval", message: "Call?", approvers: ["lead@example.com"], timeout: "2d", on_reject: "done" },
      { id: "hi", type: "send", template: "hi" },
      { id: "done", type: "exit", reason: "handled" },
    ],
  };

  it("run down a column free of the nodes they pass, and only they are routed", () => {
    const graph = specToGraph(handoff);
    const { positions, routes } = layoutWithRoutes(graph);
    const rejected = graph.edges.find((e) => e.source === "ask" && e.target === "done")!;
    const route = routes.get(rejected.id);
    expect(route).toBeDefined();
    const from = positions.get("ask")!.y + NODE_HEIGHT;
    const to = positions.get("done")!.y;
    for (const node of graph.nodes) {
      if (node.id === "ask" || node.id === "done") continue;
      const at = positions.get(node.id)!;
      const between = at.y < to && at.y + NODE_HEIGHT > from;
      const crossed = at.x < route!.column && route!.column < at.x + NODE_WIDTH;
      expect(between && crossed, `the rejected line runs through ${node.id}`).toBe(false);
    }
    // A line to the next rank goes straight there: no route.
    const approved = graph.edges.find((e) => e.source === "ask" && e.target === "hi")!;
    expect(routes.has(approved.id)).toBe(false);
  });

  it("draws down from the source, along the column, into the target", () => {
    expect(routedPath({ x: 100, y: 50 }, { x: 300, y: 400 }, 20)).toBe(
      "M 100,50 L 100,66 L 20,66 L 20,384 L 300,384 L 300,400",
    );
  });
});
