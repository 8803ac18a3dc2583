import { describe, expect, it } from "vitest";
import { specToGraph, type Spec } from "./graph";
import { layout, openingNodes } from "./layout";

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
