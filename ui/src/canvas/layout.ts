// Automatic layout with dagre: top to bottom, ranks by the flow, edges' labels given room.
import dagre from "@dagrejs/dagre";
import type { FlowGraph } from "./graph";

export const NODE_WIDTH = 272;
export const NODE_HEIGHT = 92;

/** Zoom to fit with room at the bottom for the minimap (bottom right, 120 px tall) and the
 * zoom controls (bottom left), so neither ever covers a node, the end node included. */
export const FIT_PADDING = { top: "32px", left: "32px", right: "32px", bottom: "150px" } as const;

export interface Position {
  x: number;
  y: number;
}

/**
 * Where a line that crosses ranks runs: dagre routes it through a free column (its dummy
 * nodes), where React Flow's own step line would cut straight through the nodes between.
 */
export interface Route {
  /** The x of the free column the line runs down. */
  column: number;
  /** Where its label goes on that column. */
  labelY: number;
}

/** The top-left corner of every node, and the route of every line that crosses ranks. */
export interface Laid {
  positions: Map<string, Position>;
  routes: Map<string, Route>;
}

/** The top-left corner of every node, keyed by node id. */
export function layout(graph: FlowGraph): Map<string, Position> {
  return layoutWithRoutes(graph).positions;
}

/** The layout, and a route for each edge that passes ranks with nodes of their own. */
export function layoutWithRoutes(graph: FlowGraph): Laid {
  const g = new dagre.graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir: "TB", nodesep: 48, ranksep: 64, edgesep: 24, marginx: 16, marginy: 16 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const node of graph.nodes) g.setNode(node.id, { width: NODE_WIDTH, height: NODE_HEIGHT });
  for (const edge of graph.edges) {
    // A labelled edge asks dagre for room for its label between the ranks.
    const label = edge.label ? { width: Math.min(200, 8 + edge.label.length * 7), height: 22 } : {};
    g.setEdge(edge.source, edge.target, label, edge.id);
  }
  dagre.layout(g);
  const positions = new Map<string, Position>();
  for (const node of graph.nodes) {
    const placed = g.node(node.id);
    positions.set(node.id, { x: placed.x - NODE_WIDTH / 2, y: placed.y - NODE_HEIGHT / 2 });
  }
  const routes = new Map<string, Route>();
  for (const edge of graph.edges) {
    const placed = g.edge(edge.source, edge.target, edge.id) as { points?: Position[]; y?: number } | undefined;
    const points = placed?.points ?? [];
    // Three points: from one rank to the next (its label's half rank included). More: the
    // line passes ranks that hold other nodes, down the column dagre kept free for it.
    if (points.length <= 3) continue;
    const middle = points[Math.floor(points.length / 2)]!;
    routes.set(edge.id, { column: middle.x, labelY: placed?.y ?? middle.y });
  }
  return { positions, routes };
}

/** The key a node's position has in a spec's `layout` field: steps by id, the trigger as "trigger". */
export function layoutKeyOf(nodeId: string): string {
  return nodeId === "__trigger" ? "trigger" : nodeId;
}

/**
 * Positions from the spec's `layout` where it has them, `auto`'s elsewhere. The end is not a
 * step and has no stored place: it goes under the lowest node leading to it.
 */
export function withStored(
  graph: FlowGraph,
  auto: Map<string, Position>,
  stored: Record<string, Position>,
): Map<string, Position> {
  const out = new Map<string, Position>();
  for (const node of graph.nodes) {
    if (node.kind === "end") continue;
    const at = stored[layoutKeyOf(node.id)] ?? auto.get(node.id);
    if (at) out.set(node.id, at);
  }
  for (const node of graph.nodes) {
    if (node.kind !== "end") continue;
    const lowest = graph.edges
      .filter((e) => e.target === node.id && stored[layoutKeyOf(e.source)] !== undefined)
      .map((e) => out.get(e.source))
      .filter((p): p is Position => p !== undefined)
      .sort((a, b) => b.y - a.y)[0];
    const at = lowest ? { x: lowest.x, y: lowest.y + NODE_HEIGHT + 64 } : auto.get(node.id);
    if (at) out.set(node.id, at);
  }
  return out;
}

/** How many ranks the read-only canvas opens on: at 1280x800 three ranks fill the canvas at
 * a zoom where a node's text is still readable; a fourth would shrink every label below 10px. */
export const OPENING_RANKS = 3;
const RANK_HEIGHT = NODE_HEIGHT + 64;

/**
 * The nodes to zoom to when a canvas opens: all of them (undefined) when the workflow is at
 * most OPENING_RANKS ranks deep, else those in its first OPENING_RANKS ranks, so a deep
 * workflow opens readable at its top instead of whole and tiny.
 */
export function openingNodes(nodes: { id: string; y: number }[]): { id: string }[] | undefined {
  if (nodes.length === 0) return undefined;
  const top = Math.min(...nodes.map((n) => n.y));
  const bottom = Math.max(...nodes.map((n) => n.y));
  const reach = top + OPENING_RANKS * RANK_HEIGHT;
  if (bottom < reach) return undefined;
  return nodes.filter((n) => n.y < reach).map((n) => ({ id: n.id }));
}
