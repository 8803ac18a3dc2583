// The editing panel: a form for the selected step's fields, by its type. Every change makes a
// new step object; the page turns it into a new spec (and an undo point).
import { lazy, Suspense } from "react";
import { STEP_LABELS, TRIGGER_ID, type NodeKind, type Spec, type Step } from "../canvas/graph";
import { StepIcon } from "../canvas/StepIcon";
import { Condition, Field, ProblemList, read, shown, type FieldSpec } from "../forms/Field";
import type { ProblemOut } from "./problems";

// The preview and test send are a chunk of their own, loaded when a send step is opened.
const TemplatePreview = lazy(() => import("./editors/TemplatePreview").then((m) => ({ default: m.TemplatePreview })));

const hasAt = (values: Record<string, unknown>) => typeof values.at === "string" && values.at !== "";
const isPerKey = (values: Record<string, unknown>) => values.reentry === "per_key";

const NEXT: FieldSpec = { name: "next", label: "Then go to", kind: "step", hint: "empty: the step listed after it" };

const FIELDS: Record<string, FieldSpec[]> = {
  trigger: [
    { name: "type", label: "Starts on", kind: { options: ["event", "date", "inactivity", "segment", "score", "enrolled"] } },
    { name: "event", label: "Event", kind: "event", hint: "e.g. cart_abandoned" },
    { name: "where", label: "Only when", kind: "condition", hint: "a condition, e.g. event.value >= 15" },
  ],
  send: [
    { name: "channel", label: "Channel", kind: { options: ["email", "sms", "push", "slack"] } },
    { name: "template", label: "Template", kind: "text" },
    { name: "topic", label: "Topic", kind: "text" },
    { name: "kind", label: "Kind", kind: { options: ["marketing", "transactional"] }, hint: "transactional: a receipt or reset, outside the marketing rules" },
    { name: "valid_for", label: "Worth sending for", kind: "text", hint: "e.g. 2h: a message the policies would hold back longer is dropped" },
    {
      name: "on_deferral",
      label: "While the policies hold it back",
      kind: { options: ["go_on", "hold"] },
      hint: "go_on: the journey moves on, the message goes later; hold: it waits here until the message goes",
    },
    NEXT,
  ],
  wait: [
    { name: "for", label: "Wait for", kind: "text", hint: "a duration: 30m, 1h, 2d" },
    { name: "event", label: "Or until the event", kind: "event" },
    { name: "at", label: "Or until the moment", kind: "text", hint: "relative to a field, e.g. event.starts_at - 1h" },
    { name: "at_time", label: "At the time of day", kind: "text", hint: "for a date field: e.g. 09:00 on the contact's clock", shownIf: hasAt },
    { name: "if_missing", label: "When the field is empty", kind: { options: ["exit", "go_on"] }, shownIf: hasAt },
    { name: "if_past", label: "When the moment has passed", kind: { options: ["go_on", "exit"] }, shownIf: hasAt },
    { name: "timeout", label: "At most", kind: "text", hint: "with an event or events: how long to wait for them" },
    { name: "on_event", label: "When it happens, go to", kind: "step" },
    { name: "on_timeout", label: "When time is up, go to", kind: "step" },
    NEXT,
  ],
  branch: [{ name: "else", label: "Otherwise go to", kind: "step", hint: "empty: the step listed after it" }],
  split: [],
  update: [
    { name: "add_tags", label: "Add tags", kind: "list", hint: "comma separated" },
    { name: "remove_tags", label: "Remove tags", kind: "list", hint: "comma separated" },
    { name: "score", label: "Change score by", kind: "number" },
    NEXT,
  ],
  webhook: [
    { name: "url", label: "URL", kind: "text" },
    { name: "method", label: "Method", kind: { options: ["POST", "PUT", "PATCH"] } },
    { name: "body", label: "Body", kind: "text" },
    NEXT,
  ],
  notify: [
    { name: "channel", label: "Channel", kind: { options: ["email", "slack"] } },
    { name: "to", label: "To", kind: "text" },
    { name: "message", label: "Message", kind: "text" },
    NEXT,
  ],
  approval: [
    { name: "message", label: "Question", kind: "text" },
    { name: "approvers", label: "Approvers", kind: "list", hint: "emails, comma separated; empty: any approver" },
    { name: "timeout", label: "Decide within", kind: "text" },
    { name: "on_approve", label: "Approved: go to", kind: "step" },
    { name: "on_reject", label: "Rejected: go to", kind: "step" },
    { name: "on_timeout", label: "No answer: go to", kind: "step" },
  ],
  enroll: [{ name: "workflow", label: "Workflow", kind: "text" }, NEXT],
  exit: [{ name: "reason", label: "Reason", kind: "text" }],
  suppress: [
    { name: "channel", label: "Channel", kind: { options: ["email", "sms"] } },
    { name: "reason", label: "Reason", kind: "text", hint: "shown on the contact's timeline" },
    NEXT,
  ],
  entry: [
    { name: "when", label: "Only contacts who", kind: "condition", hint: "a condition on entry, e.g. consent.email == \"subscribed\"" },
    { name: "reentry", label: "May enter", kind: { options: ["once", "always", "period", "per_key"] } },
    { name: "period", label: "Once per", kind: "text", hint: "with reentry: period, e.g. 30d", shownIf: (v) => v.reentry === "period" },
    { name: "key", label: "Once per value of", kind: "text", hint: "e.g. event.cart_id", shownIf: isPerKey },
    { name: "per_key", label: "Per value", kind: { options: ["once", "one_at_a_time"] }, shownIf: isPerKey },
  ],
};

function set(record: Record<string, unknown>, name: string, value: unknown): Record<string, unknown> {
  const out = { ...record };
  if (value === undefined) delete out[name];
  else out[name] = value;
  return out;
}

function problemAt(problems: ProblemOut[], suffix: string): ProblemOut | undefined {
  return problems.find((p) => p.path === suffix || p.path.endsWith(`.${suffix}`) || p.path.endsWith(`]${suffix}`));
}

function Arms({
  step,
  stepIds,
  problems,
  eventName,
  onChange,
}: {
  step: Step;
  stepIds: string[];
  problems: ProblemOut[];
  eventName: string | undefined;
  onChange: (step: Step) => void;
}) {
  const isBranch = step.type === "branch";
  const field = isBranch ? "branches" : "paths";
  const arms = (Array.isArray(step[field]) ? step[field] : []) as Record<string, unknown>[];
  const change = (i: number, name: string, value: unknown) =>
    onChange({ ...step, [field]: arms.map((arm, j) => (j === i ? set(arm, name, value) : arm)) });
  return (
    <fieldset className="form__arms">
      <legend className="field__label">{isBranch ? "Conditions, in order" : "Paths"}</legend>
      {arms.map((arm, i) => (
        <div className="form__arm" key={i}>
          {isBranch ? (
            <Condition
              label={`Condition ${i + 1}`}
              placeholder="e.g. event.value >= 100"
              value={shown(arm.when)}
              invalid={problemAt(problems, `branches[${i}].when`) !== undefined}
              eventName={eventName}
              onChange={(text) => change(i, "when", text)}
            />
          ) : (
            <>
              <input className="input" aria-label={`Path ${i + 1} name`} value={shown(arm.name)} onChange={(e) => change(i, "name", e.target.value)} />
              <input
                className="input input--short"
                aria-label={`Path ${i + 1} percent`}
                value={shown(arm.percent)}
                onChange={(e) => change(i, "percent", read("number", e.target.value))}
              />
            </>
          )}
          <select className="select" aria-label={`Go to, ${i + 1}`} value={shown(arm.next)} onChange={(e) => change(i, "next", e.target.value)}>
            <option value="">(choose a step)</option>
            {stepIds.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
          <button
            type="button"
            className="button button--ghost"
            aria-label={`Remove ${i + 1}`}
            onClick={() => onChange({ ...step, [field]: arms.filter((_, j) => j !== i) })}
          >
            ×
          </button>
        </div>
      ))}
      <button
        type="button"
        className="button"
        onClick={() =>
          onChange({
            ...step,
            [field]: [...arms, isBranch ? { when: "", next: "" } : { name: `path_${arms.length + 1}`, percent: 50, next: "" }],
          })
        }
      >
        {isBranch ? "Add a condition" : "Add a path"}
      </button>
    </fieldset>
  );
}

/** A wait for whichever of several events comes first: each event, its condition and where
 * it leads (the step after the wait when unset). */
function AwaitedEvents({
  step,
  stepIds,
  problems,
  onChange,
}: {
  step: Step;
  stepIds: string[];
  problems: ProblemOut[];
  onChange: (step: Step) => void;
}) {
  const awaited = (Array.isArray(step.events) ? step.events : []) as Record<string, unknown>[];
  const change = (i: number, name: string, value: unknown) =>
    onChange({ ...step, events: awaited.map((e, j) => (j === i ? set(e, name, value) : e)) });
  const remove = (i: number) => {
    const rest = awaited.filter((_, j) => j !== i);
    const out: Step = { ...step, events: rest };
    if (rest.length === 0) delete out.events;
    onChange(out);
  };
  return (
    <fieldset className="form__arms">
      <legend className="field__label">Or wait for any of these events</legend>
      {awaited.map((e, i) => (
        <div className="form__arm form__arm--wrap" key={i}>
          <input
            className={`input${problemAt(problems, `events[${i}].event`) ? " input--invalid" : ""}`}
            aria-label={`Awaited event ${i + 1}`}
            placeholder="event name"
            value={shown(e.event)}
            onChange={(ev) => change(i, "event", read("text", ev.target.value))}
          />
          <input
            className="input"
            aria-label={`Awaited event ${i + 1} only when`}
            placeholder="only when (optional)"
            value={shown(e.where)}
            onChange={(ev) => change(i, "where", read("text", ev.target.value))}
          />
          <select className="select" aria-label={`Awaited event ${i + 1} goes to`} value={shown(e.next)} onChange={(ev) => change(i, "next", read("text", ev.target.value))}>
            <option value="">(the next step)</option>
            {stepIds.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
          <button type="button" className="button button--ghost" aria-label={`Remove awaited event ${i + 1}`} onClick={() => remove(i)}>
            ×
          </button>
        </div>
      ))}
      <button type="button" className="button" onClick={() => onChange({ ...step, events: [...awaited, { event: "" }] })}>
        Add an event
      </button>
      {awaited.length > 0 && <p className="form__hint">Set “At most” and “When time is up, go to” for the timeout.</p>}
    </fieldset>
  );
}

export interface FormProps {
  spec: Spec;
  nodeId: string;
  kind: NodeKind;
  problems: ProblemOut[];
  onStep: (id: string, step: Step) => void;
  onTrigger: (trigger: Record<string, unknown>) => void;
  onTemplate: (name: string, template: Record<string, unknown>) => void;
  /** Changes the workflow's `entry:` (who may enter, how often), edited on the trigger. */
  onEntry?: (entry: Record<string, unknown>) => void;
  onClose: () => void;
}

export function StepForm({ spec, nodeId, kind, problems, onStep, onTrigger, onTemplate, onEntry, onClose }: FormProps) {
  const isTrigger = nodeId === TRIGGER_ID;
  const steps = Array.isArray(spec.steps) ? spec.steps : [];
  const step = steps.find((s) => s.id === nodeId);
  const values: Record<string, unknown> = isTrigger ? (spec.trigger ?? {}) : (step ?? {});
  const stepIds = steps.map((s) => s.id).filter((s) => s !== nodeId);
  const fields = FIELDS[isTrigger ? "trigger" : (step?.type ?? "")] ?? [];
  const templates = (spec.templates ?? {}) as Record<string, Record<string, unknown>>;
  const templateName = step?.type === "send" && typeof step.template === "string" ? step.template : null;
  const template = templateName ? (templates[templateName] ?? {}) : null;
  const title = isTrigger ? "Trigger" : nodeId;
  const entry = (typeof spec.entry === "object" && spec.entry !== null ? spec.entry : {}) as Record<string, unknown>;
  const triggerEvent = (spec.trigger as Record<string, unknown> | undefined)?.event;
  const eventName = typeof triggerEvent === "string" ? triggerEvent : undefined;
  const change = (name: string, value: unknown) => {
    if (isTrigger) onTrigger(set(values, name, value));
    else if (step) onStep(nodeId, set(step, name, value) as Step);
  };
  return (
    <aside className="panel builder__panel" aria-label={`Edit ${title}`}>
      <header className="panel__header">
        <span className={`panel__badge step--${kind}`}>
          <StepIcon kind={kind} />
        </span>
        <div>
          <div className="panel__kind">{STEP_LABELS[kind]}</div>
          <h2 className="panel__title">{title}</h2>
        </div>
        <button type="button" className="button button--ghost panel__close" onClick={onClose} aria-label="Close the editor">
          ×
        </button>
      </header>
      <ProblemList problems={problems} label="Problems of this step" />
      <form className="form" onSubmit={(e) => e.preventDefault()}>
        {step && (
          <div className="form__row">
            <label className="field__label" htmlFor={`field-${nodeId}-id`}>
              Step id
            </label>
            <input
              id={`field-${nodeId}-id`}
              className="input"
              value={step.id}
              onChange={(e) => {
                const id = e.target.value.trim();
                if (id && !steps.some((s) => s.id === id)) onStep(nodeId, { ...step, id });
              }}
            />
          </div>
        )}
        {fields.filter((field) => field.shownIf?.(values) ?? true).map((field) => (
          <Field
            key={field.name}
            id={nodeId}
            field={field}
            value={values[field.name]}
            stepIds={stepIds}
            problem={problemAt(problems, field.name)}
            eventName={eventName}
            onChange={(value) => change(field.name, value)}
          />
        ))}
        {step && step.type === "wait" && (
          <AwaitedEvents step={step} stepIds={stepIds} problems={problems} onChange={(changed) => onStep(nodeId, changed)} />
        )}
        {isTrigger && onEntry && (
          <fieldset className="form__arms" aria-label="Entry">
            <legend className="field__label">Entry</legend>
            {(FIELDS.entry ?? []).filter((field) => field.shownIf?.(entry) ?? true).map((field) => (
              <Field
                key={field.name}
                id="entry"
                field={field}
                value={entry[field.name]}
                stepIds={stepIds}
                eventName={eventName}
                onChange={(value) => onEntry(set(entry, field.name, value))}
              />
            ))}
          </fieldset>
        )}
        {step && (step.type === "branch" || step.type === "split") && (
          <Arms step={step} stepIds={stepIds} problems={problems} eventName={eventName} onChange={(changed) => onStep(nodeId, changed)} />
        )}
        {templateName && template && (
          <fieldset className="form__arms">
            <legend className="field__label">Message ({templateName})</legend>
            {(["subject", "text", "html"] as const).map((part) => (
              <div className="form__row" key={part}>
                <label className="field__label" htmlFor={`tpl-${nodeId}-${part}`}>
                  {part === "text" ? "Plain text" : part === "html" ? "HTML" : "Subject"}
                </label>
                <textarea
                  id={`tpl-${nodeId}-${part}`}
                  className="input textarea"
                  rows={part === "subject" ? 1 : 3}
                  value={shown(template[part])}
                  onChange={(e) => onTemplate(templateName, set(template, part, e.target.value || undefined))}
                />
              </div>
            ))}
          </fieldset>
        )}
      </form>
      {step && templateName && template && (step.channel === undefined || step.channel === "email" || step.channel === "sms") && (
        <Suspense fallback={<p className="muted">Loading the preview…</p>}>
          <TemplatePreview
            workflowKey={String(spec.id ?? "")}
            stepId={step.id}
            templateName={templateName}
            channel={typeof step.channel === "string" ? step.channel : "email"}
            template={template}
          />
        </Suspense>
      )}
    </aside>
  );
}
