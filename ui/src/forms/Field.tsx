// One field of a form over a JSON record (a workflow step, its policies, the workspace's
// policies), described by a FieldSpec, with the server's problem at the field under it; and
// the list of problems that belong to no single field. Shared by the builder and Settings.
import { lazy, Suspense } from "react";
import "../styles/forms.css";

// Completion of field and event names is a chunk of its own, loaded when such a field shows.
const ConditionInput = lazy(() => import("../builder/editors/ConditionInput").then((m) => ({ default: m.ConditionInput })));
const EventNameInput = lazy(() => import("../builder/editors/ConditionInput").then((m) => ({ default: m.EventNameInput })));

/** What the server said about one field. */
export interface FieldProblem {
  message: string;
  hint?: string | undefined;
}

/** A problem with the path of what it is about (`policies.quiet_hours.start`). */
export interface PathProblem extends FieldProblem {
  path: string;
}

export type Kind = "text" | "number" | "list" | "step" | "condition" | "event" | { options: string[] };

export interface FieldSpec {
  name: string;
  label: string;
  kind: Kind;
  hint?: string;
  /** Shown only when this holds of the step's values (fields that apply to one kind of wait). */
  shownIf?: (values: Record<string, unknown>) => boolean;
}

export function shown(value: unknown): string {
  if (Array.isArray(value)) return value.join(", ");
  if (value === undefined || value === null) return "";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

export function read(kind: Kind, text: string): unknown {
  if (text === "") return undefined;
  if (kind === "number") return Number.isFinite(Number(text)) ? Number(text) : text;
  if (kind === "list") return text.split(",").map((s) => s.trim()).filter(Boolean);
  return text;
}

/** A condition field: completion and a live count once the editors' chunk has loaded; a
 * plain input that works the same until then. */
export function Condition(props: {
  id?: string;
  label?: string;
  value: string;
  placeholder?: string;
  invalid: boolean;
  eventName: string | undefined;
  onChange: (value: string) => void;
}) {
  const { eventName, ...rest } = props;
  const plain = (
    <input
      id={props.id}
      className={`input${props.invalid ? " input--invalid" : ""}`}
      aria-label={props.id ? undefined : props.label}
      placeholder={props.placeholder}
      value={props.value}
      onChange={(e) => props.onChange(e.target.value)}
    />
  );
  return (
    <Suspense fallback={plain}>
      <ConditionInput {...rest} {...(eventName ? { eventName } : {})} />
    </Suspense>
  );
}

export function Field({
  id,
  field,
  value,
  stepIds = [],
  problem,
  eventName,
  onChange,
}: {
  id: string;
  field: FieldSpec;
  value: unknown;
  /** The steps a `step` field can name. */
  stepIds?: string[];
  problem?: FieldProblem | undefined;
  eventName?: string | undefined;
  onChange: (value: unknown) => void;
}) {
  const inputId = `field-${id}-${field.name}`;
  let input;
  if (field.kind === "step") {
    input = (
      <select id={inputId} className="select" value={shown(value)} onChange={(e) => onChange(read("text", e.target.value))}>
        <option value="">{field.name === "next" || field.name === "else" ? "(the next step)" : "(the journey ends)"}</option>
        {stepIds.map((s) => (
          <option key={s} value={s}>
            {s}
          </option>
        ))}
      </select>
    );
  } else if (typeof field.kind === "object") {
    input = (
      <select id={inputId} className="select" value={shown(value) || field.kind.options[0]} onChange={(e) => onChange(e.target.value)}>
        {field.kind.options.map((o) => (
          <option key={o}>{o}</option>
        ))}
      </select>
    );
  } else if (field.kind === "event") {
    const plain = (
      <input id={inputId} className={`input${problem ? " input--invalid" : ""}`} value={shown(value)} onChange={(e) => onChange(read("text", e.target.value))} />
    );
    input = (
      <Suspense fallback={plain}>
        <EventNameInput id={inputId} value={shown(value)} invalid={problem !== undefined} onChange={(text) => onChange(read("text", text))} />
      </Suspense>
    );
  } else if (field.kind === "condition") {
    input = (
      <Condition
        id={inputId}
        value={shown(value)}
        invalid={problem !== undefined}
        eventName={eventName}
        onChange={(text) => onChange(read("text", text))}
      />
    );
  } else {
    const kind = field.kind;
    input = (
      <input
        id={inputId}
        className={`input${problem ? " input--invalid" : ""}`}
        value={shown(value)}
        aria-invalid={problem ? true : undefined}
        onChange={(e) => onChange(read(kind, e.target.value))}
      />
    );
  }
  return (
    <div className="form__row">
      <label className="field__label" htmlFor={inputId}>
        {field.label}
      </label>
      {input}
      {problem ? (
        <p className="form__problem">
          {problem.message}
          {problem.hint ? ` (${problem.hint})` : ""}
        </p>
      ) : (
        field.hint && <p className="form__hint">{field.hint}</p>
      )}
    </div>
  );
}

/** The server's problems of one part of the spec, each with its path and hint. */
export function ProblemList({ problems, label }: { problems: PathProblem[]; label: string }) {
  if (!problems.length) return null;
  return (
    <ul className="form__problems" aria-label={label}>
      {problems.map((p, i) => (
        <li key={i}>
          <code>{p.path}</code> {p.message}
          {p.hint ? ` (${p.hint})` : ""}
        </li>
      ))}
    </ul>
  );
}
