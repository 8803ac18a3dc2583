// A line that crosses ranks: down from its step, along the free column dagre kept for it,
// then into its target, so it never seems to lead into a node it only passes.
import { BaseEdge, type Edge, type EdgeProps } from "@xyflow/react";
import type { Route } from "./layout";

export type RoutedFlowEdge = Edge<{ route: Route }, "routed">;

/** How far below its source and above its target the line turns. */
const TURN = 16;

/** The SVG path of a routed line, from a source's handle to a target's. */
export function routedPath(source: { x: number; y: number }, target: { x: number; y: number }, column: number): string {
  const below = source.y + TURN;
  const above = target.y - TURN;
  return [
    `M ${source.x},${source.y}`,
    `L ${source.x},${below}`,
    `L ${column},${below}`,
    `L ${column},${above}`,
    `L ${target.x},${above}`,
    `L ${target.x},${target.y}`,
  ].join(" ");
}

export function RoutedEdge({ id, sourceX, sourceY, targetX, targetY, data, label, markerEnd, labelBgPadding, labelBgBorderRadius }: EdgeProps<RoutedFlowEdge>) {
  const column = data?.route.column ?? (sourceX + targetX) / 2;
  return (
    <BaseEdge
      id={id}
      path={routedPath({ x: sourceX, y: sourceY }, { x: targetX, y: targetY }, column)}
      markerEnd={markerEnd}
      label={label}
      labelX={column}
      labelY={data?.route.labelY ?? (sourceY + targetY) / 2}
      labelBgPadding={labelBgPadding}
      labelBgBorderRadius={labelBgBorderRadius}
    />
  );
}
