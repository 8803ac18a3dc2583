// The settings of the selected node, read-only, every value shown as text.
import type { ReactNode } from "react";
import { STEP_LABELS, type FlowNode } from "./graph";
import { StepIcon } from "./StepIcon";

function show(value: unknown): string {
  if (typeof value === "string") return value;
  return JSON.stringify(value, null, 2);
}

export function SettingsPanel({ node, onClose, children }: { node: FlowNode; onClose: () => void; children?: ReactNode }) {
  const fields = Object.entries(node.settings).filter(([name]) => name !== "id");
  return (
    <aside className="panel" aria-label={`Settings of ${node.title}`}>
      <header className="panel__header">
        <span className={`panel__badge step--${node.kind}`}>
          <StepIcon kind={node.kind} />
        </span>
        <div>
          <div className="panel__kind">{STEP_LABELS[node.kind]}</div>
          <h2 className="panel__title">{node.title}</h2>
        </div>
        <button type="button" className="button button--ghost panel__close" onClick={onClose} aria-label="Close settings">
          ×
        </button>
      </header>
      <p className="panel__summary">{node.summary}</p>
      {fields.length === 0 ? (
        <p className="muted">Nothing to set here.</p>
      ) : (
        <dl className="fields">
          {fields.map(([name, value]) => (
            <div className="fields__row" key={name}>
              <dt>{name}</dt>
              <dd>
                {typeof value === "object" && value !== null ? <pre>{show(value)}</pre> : show(value)}
              </dd>
            </div>
          ))}
        </dl>
      )}
      {children}
      <p className="panel__note">Read-only in this version of the console. Change the workflow file and deploy it.</p>
    </aside>
  );
}
