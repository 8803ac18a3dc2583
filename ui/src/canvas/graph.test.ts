import { describe, expect, it } from "vitest";
import { END_ID, TRIGGER_ID, specToGraph, type Spec } from "./graph";
import { figuresLine } from "./figures";
import { NODE_HEIGHT, NODE_WIDTH, layout } from "./layout";

// The shape of examples/workflows/cart_recovery.yaml, plus a wait for an event and an approval.
const spec: Spec = {
  id: "cart_recovery",
  name: "Abandoned cart recovery",
  trigger: { type: "event", event: "cart_abandoned" },
  steps: [
    {
      id: "holdout",
      type: "split",
      paths: [
        { name: "treated", percent: 90, next: "wait_1h" },
        { name: "holdout", percent: 10, next: "done", holdout: true },
      ],
    },
    { id: "wait_1h", type: "wait", for: "1h" },
    { id: "reminder", type: "send", template: "cart_reminder" },
    { id: "wait_click", type: "wait", event: "email_clicked", timeout: "2d", on_timeout: "big_cart" },
    { id: "thanks", type: "update", add_tags: ["engaged"], next: "done" },
    {
      id: "big_cart",
      type: "branch",
      branches: [{ when: "event.value >= 100", next: "ask" }],
      else: "last_call",
    },
    { id: "ask", type: "approval", message: "Send the big discount?", timeout: "1d", on_reject: "done" },
    { id: "discount", type: "send", template: "cart_discount", next: "done" },
    { id: "last_call", type: "send", template: "cart_last_call" },
    { id: "done", type: "exit", reason: "finished" },
  ],
};

function edge(graph: ReturnType<typeof specToGraph>, source: string, label: string) {
  return graph.edges.find((e) => e.source === source && e.label === label);
}

describe("specToGraph", () => {
  const graph = specToGraph(spec);

  it("draws the trigger and every step as a node of its own kind", () => {
    expect(graph.nodes.map((n) => [n.id, n.kind])).toEqual([
      [TRIGGER_ID, "trigger"],
      ["holdout", "split"],
      ["wait_1h", "wait"],
      ["reminder", "send"],
      ["wait_click", "wait"],
      ["thanks", "update"],
      ["big_cart", "branch"],
      ["ask", "approval"],
      ["discount", "send"],
      ["last_call", "send"],
      ["done", "exit"],
      [END_ID, "end"],
    ]);
    expect(graph.nodes[0]?.summary).toBe("When cart_abandoned happens");
  });

  it("labels split paths with their share and marks the holdout", () => {
    expect(edge(graph, "holdout", "treated 90%")?.target).toBe("wait_1h");
    expect(edge(graph, "holdout", "holdout 10% (holdout)")?.target).toBe("done");
  });

  it("labels a wait for an event with its two outcomes; an implicit next is the step after", () => {
    expect(edge(graph, "wait_click", "on email_clicked")?.target).toBe("thanks");
    expect(edge(graph, "wait_click", "after 2d")?.target).toBe("big_cart");
    expect(edge(graph, "wait_1h", "")?.target).toBe("reminder");
  });

  it("labels branch arms with their condition and the rest as else", () => {
    expect(edge(graph, "big_cart", "event.value >= 100")?.target).toBe("ask");
    expect(edge(graph, "big_cart", "else")?.target).toBe("last_call");
  });

  it("gives an approval its three ways on, ending where none is set", () => {
    expect(edge(graph, "ask", "approved")?.target).toBe("discount");
    expect(edge(graph, "ask", "rejected")?.target).toBe("done");
    expect(edge(graph, "ask", "timed out")?.target).toBe(END_ID);
  });

  it("gives an exit no way on, and the last non-exit step leads to the end", () => {
    expect(graph.edges.filter((e) => e.source === "done")).toEqual([]);
    expect(edge(graph, "last_call", "")?.target).toBe("done");
  });

  it("draws two ways to the same step as one edge carrying both labels", () => {
    const rejoin = specToGraph({
      trigger: { event: "signed_up" },
      steps: [
        { id: "fork", type: "branch", branches: [{ when: "contact.vip", next: "hi" }], else: "hi" },
        { id: "hi", type: "send", template: "hi" },
      ],
    });
    expect(rejoin.edges.filter((e) => e.source === "fork")).toEqual([
      { id: "fork->hi#0", source: "fork", target: "hi", label: "contact.vip · else" },
    ]);
    expect(rejoin.nodes.at(-1)?.kind).toBe("end");
  });

  it("lays every node out without overlaps, the trigger on top", () => {
    const positions = layout(graph);
    const placed = graph.nodes.map((n) => ({ id: n.id, ...positions.get(n.id)! }));
    const top = Math.min(...placed.map((p) => p.y));
    expect(positions.get(TRIGGER_ID)?.y).toBe(top);
    for (const a of placed) {
      for (const b of placed) {
        if (a.id >= b.id) continue;
        const apart = Math.abs(a.x - b.x) >= NODE_WIDTH || Math.abs(a.y - b.y) >= NODE_HEIGHT;
        expect(apart, `${a.id} overlaps ${b.id}`).toBe(true);
      }
    }
    // Each edge goes down the page: the flow reads top to bottom.
    for (const e of graph.edges) {
      expect(positions.get(e.target)!.y, `${e.source} -> ${e.target}`).toBeGreaterThan(positions.get(e.source)!.y);
    }
  });
});

describe("figuresLine", () => {
  const none = {
    step_id: "s", kind: "send", entered: 0, sent: 0, delivered: 0, opened: 0, clicked: 0, converted: 0,
    revenue: 0, unsubscribed: 0, bounced: 0, resends: 0, exited: 0, waiting: 0, left: 0,
  };

  it("says nothing before anyone reaches the step", () => {
    expect(figuresLine("send", undefined)).toBeNull();
    expect(figuresLine("send", none)).toBeNull();
  });

  it("gives a send its sent count and its open and click rates", () => {
    expect(figuresLine("send", { ...none, entered: 1300, sent: 1204, opened: 460, clicked: 72 })).toBe(
      "1,204 sent · 38% open · 6% click",
    );
  });

  it("gives other steps the journeys in and those waiting there", () => {
    expect(figuresLine("wait", { ...none, kind: "wait", entered: 312, waiting: 40 })).toBe("312 in · 40 waiting");
    expect(figuresLine("branch", { ...none, kind: "branch", entered: 9 })).toBe("9 in");
  });
});
