// Automatic layout with dagre: top to bottom, ranks by the flow, edges' labels given room.
import dagre from "@dagrejs/dagre";
import type { FlowGraph } from "./graph";

export const NODE_WIDTH = 272;
export const NODE_HEIGHT = 92;

export interface Position {
  x: number;
  y: number;
}

/** The top-left corner of every node, keyed by node id. */
export function layout(graph: FlowGraph): Map<string, Position> {
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
  return positions;
}
