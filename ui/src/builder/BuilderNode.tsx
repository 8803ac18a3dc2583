// A node on the builder's canvas: the read-only node's look, plus handles to connect and the
// validator's first problem on it.
import { Handle, Position, type Node, type NodeProps } from "@xyflow/react";
import { STEP_LABELS, type FlowNode } from "../canvas/graph";
import { StepIcon } from "../canvas/StepIcon";
import type { ProblemOut } from "./problems";

export type BuilderNodeData = FlowNode & { problems: ProblemOut[] } & Record<string, unknown>;
export type BuilderFlowNode = Node<BuilderNodeData, "builder">;

export function BuilderNode({ data, selected }: NodeProps<BuilderFlowNode>) {
  const first = data.kind === "trigger";
  const last = data.kind === "end" || data.kind === "exit";
  const errors = data.problems.filter((p) => p.severity === "error");
  const shown = errors[0] ?? data.problems[0];
  const state = errors.length ? " step--invalid" : data.problems.length ? " step--warned" : "";
  return (
    <div className={`step step--${data.kind}${selected ? " step--selected" : ""}${state}`} data-testid={`node-${data.id}`}>
      {!first && <Handle type="target" position={Position.Top} />}
      <div className="step__badge">
        <StepIcon kind={data.kind} />
      </div>
      <div className="step__body">
        <div className="step__kind">{STEP_LABELS[data.kind]}</div>
        <div className="step__title">{data.kind === "trigger" || data.kind === "end" ? data.summary : data.title}</div>
        {data.kind !== "trigger" && data.kind !== "end" && !shown && <div className="step__summary">{data.summary}</div>}
        {shown && (
          <div className="step__problem" data-testid={`problem-${data.id}`} title={shown.hint || shown.message}>
            {data.problems.length > 1 ? `${data.problems.length} problems: ` : ""}
            {shown.message}
          </div>
        )}
      </div>
      {!last && <Handle type="source" position={Position.Bottom} />}
    </div>
  );
}
