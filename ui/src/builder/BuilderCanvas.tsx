// The editable canvas: drop steps from the palette, drag to move, draw lines to connect,
// Delete to remove, auto-layout, zoom to fit, minimap. Every edit is a new spec.
import {
  Background,
  ControlButton,
  Controls,
  MarkerType,
  MiniMap,
  ReactFlow,
  ReactFlowProvider,
  useReactFlow,
  type Connection,
  type Edge,
  type NodeChange,
} from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import "../styles/canvas.css";
import { useEffect, useMemo, useState, type MutableRefObject } from "react";
import { END_ID, TRIGGER_ID, specToGraph, type Spec, type Step, type StepType } from "../canvas/graph";
import { FIT_PADDING, NODE_HEIGHT, NODE_WIDTH, layout, withStored } from "../canvas/layout";
import { BuilderNode, type BuilderFlowNode } from "./BuilderNode";
import { addStep, connect, freeSpot, insertAfter, insertOnEdge, layoutKey, layoutOf, moveNodes, removeSteps, STEP_TYPES, updateStep } from "./model";
import { byNode, type ProblemOut } from "./problems";
import { StepForm } from "./StepForm";

const nodeTypes = { builder: BuilderNode };

export interface CanvasProps {
  spec: Spec;
  problems: ProblemOut[];
  selected: string[];
  onSelect: (ids: string[]) => void;
  onChange: (spec: Spec) => void;
  onOpen: (id: string) => void;
  /** Set by the canvas: pan and zoom to a node (a problem in the list was clicked). */
  focusRef: MutableRefObject<((id: string) => void) | null>;
}

function Canvas({ spec, problems, selected, onSelect, onChange, onOpen, focusRef }: CanvasProps) {
  const flow = useReactFlow();
  const graph = useMemo(() => specToGraph(spec), [spec]);
  // Steps without a stored position (a file written by hand) get dagre's.
  const placed = useMemo(() => layout(graph), [graph]);
  const stored = layoutOf(spec);
  const grouped = useMemo(() => byNode(problems), [problems]);
  const chosen = new Set(selected);
  // A line clicked on: the next step dropped goes on it.
  const [line, setLine] = useState<{ id: string; source: string; target: string } | null>(null);
  // Positions while a drag is under way: drawn at once, written to the spec on drop.
  const [drag, setDrag] = useState<Record<string, { x: number; y: number }> | null>(null);

  const positions = useMemo(() => {
    const moving = Object.fromEntries(Object.entries(drag ?? {}).map(([id, at]) => [layoutKey(id), at]));
    return withStored(graph, placed, { ...stored, ...moving });
  }, [graph, placed, stored, drag]);
  const nodes: BuilderFlowNode[] = graph.nodes.map((node) => ({
    id: node.id,
    type: "builder",
    position: positions.get(node.id) ?? { x: 0, y: 0 },
    data: { ...node, problems: grouped.get(node.id) ?? [] },
    width: NODE_WIDTH,
    height: NODE_HEIGHT,
    // Every render makes these node objects afresh; a node given without `measured` has
    // its handles forgotten and is measured again, and until that lands its lines are not
    // drawn (a busy browser showed a canvas with no lines at all). Nodes are this size.
    measured: { width: NODE_WIDTH, height: NODE_HEIGHT },
    selected: chosen.has(node.id),
    deletable: node.id !== TRIGGER_ID && node.id !== END_ID,
    draggable: node.id !== END_ID,
  }));
  const edges: Edge[] = graph.edges.map((edge) => ({
    id: edge.id,
    source: edge.source,
    target: edge.target,
    label: edge.label || undefined,
    type: "smoothstep",
    deletable: false,
    selected: line?.id === edge.id,
    markerEnd: { type: MarkerType.ArrowClosed, width: 16, height: 16 },
    className: `${edge.label ? "edge edge--labelled" : "edge"}${line?.id === edge.id ? " edge--chosen" : ""}`,
    labelBgPadding: [6, 3] as [number, number],
    labelBgBorderRadius: 4,
  }));

  useEffect(() => {
    focusRef.current = (id: string) => {
      const node = flow.getNode(id);
      if (node) void flow.setCenter(node.position.x + NODE_WIDTH / 2, node.position.y + NODE_HEIGHT / 2, { zoom: 1, duration: 200 });
    };
    return () => {
      focusRef.current = null;
    };
  }, [flow, focusRef]);

  const onNodesChange = (changes: NodeChange<BuilderFlowNode>[]) => {
    const picks = changes.filter((c) => c.type === "select");
    if (picks.length) {
      // Only steps still drawn: an id renamed or removed since it was selected goes.
      const next = new Set(selected.filter((id) => graph.nodes.some((n) => n.id === id)));
      for (const c of picks) {
        if (c.type !== "select") continue;
        if (c.selected) next.add(c.id);
        else next.delete(c.id);
      }
      onSelect([...next]);
    }
    const moving = changes.filter((c) => c.type === "position" && c.dragging && c.position);
    if (moving.length) {
      const moved: Record<string, { x: number; y: number }> = {};
      for (const c of moving) if (c.type === "position" && c.position) moved[c.id] = c.position;
      setDrag((before) => ({ ...before, ...moved }));
    }
  };

  const onDrop = (event: React.DragEvent) => {
    const type = event.dataTransfer.getData("application/x-tidings-step") as StepType;
    if (!STEP_TYPES.includes(type)) return;
    event.preventDefault();
    const at = flow.screenToFlowPosition({ x: event.clientX, y: event.clientY });
    const wanted = { x: Math.round(at.x - NODE_WIDTH / 2), y: Math.round(at.y - NODE_HEIGHT / 2) };
    const point = freeSpot(wanted, nodes.map((n) => n.position), { width: NODE_WIDTH, height: NODE_HEIGHT });
    const after = selected.length === 1 && selected[0] !== END_ID ? selected[0] : null;
    const made =
      (line && insertOnEdge(spec, line.source, line.target, type, point)) ??
      (after ? insertAfter(spec, after, type, point) : addStep(spec, type, point));
    setLine(null);
    onChange(made.spec);
    onSelect([made.id]);
    onOpen(made.id);
  };

  const autoLayout = () => {
    const fresh = layout(graph);
    const moved = Object.fromEntries([...fresh].filter(([id]) => id !== END_ID));
    onChange(moveNodes(spec, moved));
    window.setTimeout(() => void flow.fitView({ padding: FIT_PADDING, maxZoom: 1, duration: 200 }), 0);
  };

  return (
    <div className="canvas builder__canvas">
      <div
        className="canvas__flow"
        data-testid="builder-canvas"
        onDragOver={(event) => {
          event.preventDefault();
          event.dataTransfer.dropEffect = "move";
        }}
        onDrop={onDrop}
      >
        <ReactFlow
          nodes={nodes}
          edges={edges}
          nodeTypes={nodeTypes}
          onNodesChange={onNodesChange}
          onNodeDragStop={(_, __, moved) => {
            const positions = Object.fromEntries(moved.filter((n) => n.id !== END_ID).map((n) => [n.id, n.position]));
            setDrag(null);
            onChange(moveNodes(spec, positions));
          }}
          onNodesDelete={(gone) => onChange(removeSteps(spec, gone.map((n) => n.id)))}
          onConnect={(line: Connection) => onChange(connect(spec, line.source, line.target))}
          onNodeDoubleClick={(_, node) => onOpen(node.id)}
          onNodeClick={(_, node) => onOpen(node.id)}
          onPaneClick={() => {
            onSelect([]);
            setLine(null);
          }}
          onEdgeClick={(_, edge) => {
            // A line into the end has no step to go before; the last step's drop does it.
            setLine(edge.target === END_ID || line?.id === edge.id ? null : edge);
            onSelect([]);
          }}
          deleteKeyCode={["Backspace", "Delete"]}
          multiSelectionKeyCode={["Shift", "Meta", "Control"]}
          fitView
          fitViewOptions={{ padding: FIT_PADDING, maxZoom: 1 }}
          minZoom={0.1}
          proOptions={{ hideAttribution: true }}
        >
          <Background gap={20} size={1} />
          <MiniMap pannable zoomable ariaLabel="Minimap of the workflow" style={{ width: 168, height: 120 }} />
          <Controls showInteractive={false} fitViewOptions={{ padding: FIT_PADDING, maxZoom: 1 }}>
            <ControlButton onClick={autoLayout} title="Auto-layout" aria-label="Auto-layout">
              ⇅
            </ControlButton>
          </Controls>
        </ReactFlow>
        {line && (
          <p className="builder__line-hint" role="status">
            Drop a step to add it on this line.
          </p>
        )}
        {spec.steps?.length ? null : (
          <p className="builder__hint">Drag a step from the left onto the canvas to start. The trigger starts the journey.</p>
        )}
      </div>
    </div>
  );
}

export function BuilderCanvas(props: CanvasProps) {
  return (
    <ReactFlowProvider>
      <Canvas {...props} />
    </ReactFlowProvider>
  );
}

/** The editing panel of the one selected node, or what to do when there is none. */
export function StepPanel({
  spec,
  selected,
  problems,
  onChange,
  onClose,
  onRename,
}: {
  spec: Spec;
  selected: string[];
  problems: ProblemOut[];
  onChange: (spec: Spec) => void;
  onClose: () => void;
  /** A step's id changed in its form: the selection follows it, so its form stays open. */
  onRename?: (from: string, to: string) => void;
}) {
  const graph = useMemo(() => specToGraph(spec), [spec]);
  const only = selected.length === 1 ? graph.nodes.find((n) => n.id === selected[0] && n.id !== END_ID) : undefined;
  if (!only) {
    return (
      <p className="muted builder__empty-panel">
        {selected.length > 1
          ? `${selected.length} steps selected: Ctrl+C copies them, Delete removes them.`
          : "Click a step to edit it."}
      </p>
    );
  }
  return (
    <StepForm
      spec={spec}
      nodeId={only.id}
      kind={only.kind}
      problems={byNode(problems).get(only.id) ?? []}
      onStep={(id, step: Step) => {
        onChange(updateStep(spec, id, step));
        if (step.id !== id) onRename?.(id, step.id);
      }}
      onTrigger={(trigger) => onChange({ ...spec, trigger })}
      onEntry={(entry) => {
        const out: Spec = { ...spec, entry };
        if (Object.keys(entry).length === 0) delete out.entry;
        onChange(out);
      }}
      onTemplate={(name, template) =>
        onChange({ ...spec, templates: { ...((spec.templates as Record<string, unknown> | undefined) ?? {}), [name]: template } })
      }
      onClose={onClose}
    />
  );
}
