// A node on the canvas: its kind's colour and icon, its id, and one line of what it does.
import { Handle, Position, type Node, type NodeProps } from "@xyflow/react";
import { STEP_LABELS, type FlowNode } from "./graph";
import { StepIcon } from "./StepIcon";

export type StepNodeData = FlowNode & { figures: string | null } & Record<string, unknown>;
export type StepFlowNode = Node<StepNodeData, "step">;

export function StepNode({ data, selected }: NodeProps<StepFlowNode>) {
  const first = data.kind === "trigger";
  const last = data.kind === "end" || data.kind === "exit";
  return (
    <div
      className={`step step--${data.kind}${selected ? " step--selected" : ""}`}
      data-testid={`node-${data.id}`}
    >
      {!first && <Handle type="target" position={Position.Top} isConnectable={false} />}
      <div className="step__badge">
        <StepIcon kind={data.kind} />
      </div>
      <div className="step__body">
        <div className="step__kind">{STEP_LABELS[data.kind]}</div>
        <div className="step__title">{data.kind === "trigger" || data.kind === "end" ? data.summary : data.title}</div>
        {data.kind !== "trigger" && data.kind !== "end" && <div className="step__summary">{data.summary}</div>}
        {data.figures && (
          <div className="step__figures" data-testid={`figures-${data.id}`}>
            {data.figures}
          </div>
        )}
      </div>
      {!last && <Handle type="source" position={Position.Bottom} isConnectable={false} />}
    </div>
  );
}
