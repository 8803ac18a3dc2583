// The canvas itself: laid-out nodes, labelled edges, minimap, zoom to fit, click to inspect.
import {
  Background,
  Controls,
  MarkerType,
  MiniMap,
  ReactFlow,
  type Edge,
  type NodeMouseHandler,
} from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import "../styles/canvas.css";
import { useMemo, useState } from "react";
import { figuresLine, type StepFigures } from "./figures";
import { specToGraph, type FlowNode, type Spec } from "./graph";
import { FIT_PADDING, NODE_HEIGHT, NODE_WIDTH, layoutKeyOf, layoutWithRoutes, openingNodes, withStored, type Route } from "./layout";
import { RoutedEdge } from "./RoutedEdge";
import { SettingsPanel } from "./SettingsPanel";
import { StepContacts } from "./StepContacts";
import { StepNode, type StepFlowNode } from "./StepNode";

const nodeTypes = { step: StepNode };
const edgeTypes = { routed: RoutedEdge };

const MINIMAP_COLOURS: Record<string, string> = {
  trigger: "#2f5bea",
  send: "#0f8a6a",
  wait: "#b7791f",
  branch: "#7c3aed",
  split: "#7c3aed",
  approval: "#c2410c",
  exit: "#64748b",
  end: "#64748b",
};

export interface CanvasFigures {
  /** Journeys that entered the workflow (on this version). */
  entered: number;
  steps?: StepFigures[] | undefined;
}

export function FlowCanvas({
  spec,
  figures,
  workflowKey,
}: {
  spec: Spec;
  figures?: CanvasFigures | undefined;
  /** The live workflow's key: a clicked step then lists the contacts at it. */
  workflowKey?: string | undefined;
}) {
  const graph = useMemo(() => specToGraph(spec), [spec]);
  // As drawn in the builder when every step has a stored place; laid out by dagre otherwise.
  // Lines that cross ranks follow dagre's free columns; on places stored by the builder, which
  // dagre did not choose, they keep React Flow's step lines.
  const { positions, routes } = useMemo((): { positions: Map<string, { x: number; y: number }>; routes: Map<string, Route> } => {
    const auto = layoutWithRoutes(graph);
    const stored = spec.layout;
    if (typeof stored !== "object" || stored === null || Array.isArray(stored)) return auto;
    const places = stored as Record<string, { x: number; y: number }>;
    const complete = graph.nodes.every((n) => n.kind === "end" || n.kind === "trigger" || places[layoutKeyOf(n.id)]);
    return complete ? { positions: withStored(graph, auto.positions, places), routes: new Map() } : auto;
  }, [graph, spec.layout]);
  const [selected, setSelected] = useState<FlowNode | null>(null);
  const { nodes, edges, opening } = useMemo(() => {
    const byStep = new Map((figures?.steps ?? []).map((f) => [f.step_id, f]));
    const line = (node: FlowNode): string | null => {
      if (node.kind === "trigger") return figures?.entered ? `${figures.entered.toLocaleString("en-US")} entered` : null;
      return figuresLine(node.kind, byStep.get(node.id));
    };
    const nodes: StepFlowNode[] = graph.nodes.map((node) => ({
      id: node.id,
      type: "step",
      position: positions.get(node.id) ?? { x: 0, y: 0 },
      data: { ...node, figures: line(node) },
      // Known sizes (the CSS draws nodes this big): the read-only canvas applies no measured
      // changes, and fit-view and the minimap need a size before the first paint.
      width: NODE_WIDTH,
      height: NODE_HEIGHT,
      // Kept across renders (the figures refresh makes new node objects): without it the
      // handles are forgotten and the lines vanish until each node is measured again.
      measured: { width: NODE_WIDTH, height: NODE_HEIGHT },
      draggable: false,
      connectable: false,
    }));
    const edges: Edge[] = graph.edges.map((edge) => ({
      id: edge.id,
      source: edge.source,
      target: edge.target,
      label: edge.label || undefined,
      ...(routes.has(edge.id) ? { type: "routed", data: { route: routes.get(edge.id)! } } : { type: "smoothstep" }),
      markerEnd: { type: MarkerType.ArrowClosed, width: 16, height: 16 },
      className: edge.label ? "edge edge--labelled" : "edge",
      labelBgPadding: [6, 3] as [number, number],
      labelBgBorderRadius: 4,
    }));
    // A deep workflow fitted whole would be too small to read at 1280x800: open on its
    // first ranks instead; the minimap and the zoom-to-fit control still show all of it.
    const opening = openingNodes(nodes.map((n) => ({ id: n.id, y: n.position.y })));
    return { nodes, edges, opening };
  }, [graph, positions, routes, figures]);

  const onNodeClick: NodeMouseHandler<StepFlowNode> = (_, node) => setSelected(node.data);

  return (
    <div className="canvas">
      <div className="canvas__flow" data-testid="canvas">
        <ReactFlow
          nodes={nodes}
          edges={edges}
          nodeTypes={nodeTypes}
          edgeTypes={edgeTypes}
          onNodeClick={onNodeClick}
          onPaneClick={() => setSelected(null)}
          nodesDraggable={false}
          nodesConnectable={false}
          edgesFocusable={false}
          fitView
          fitViewOptions={{ padding: FIT_PADDING, maxZoom: 1, nodes: opening }}
          minZoom={0.1}
          proOptions={{ hideAttribution: true }}
        >
          <Background gap={20} size={1} />
          {/* With a step's panel open the canvas is narrower: the minimap would cover its nodes. */}
          {!selected && (
            <MiniMap
              pannable
              zoomable
              nodeColor={(node) => MINIMAP_COLOURS[String(node.data.kind)] ?? "#94a3b8"}
              ariaLabel="Minimap of the workflow"
              style={{ width: 168, height: 120 }}
            />
          )}
          <Controls showInteractive={false} fitViewOptions={{ padding: FIT_PADDING, maxZoom: 1 }} />
        </ReactFlow>
      </div>
      {selected && (
        <SettingsPanel node={selected} onClose={() => setSelected(null)}>
          {workflowKey && selected.kind !== "trigger" && selected.kind !== "end" && (
            <StepContacts workflowKey={workflowKey} stepId={selected.id} />
          )}
        </SettingsPanel>
      )}
    </div>
  );
}
