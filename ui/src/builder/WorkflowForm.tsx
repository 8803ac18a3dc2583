// The workflow's settings beside its steps: the goal that counts as a conversion, and the
// send-time policies of its own (transactional, caps, quiet hours, a purchase window). The
// server's validator checks them as it checks the steps; its problems show at their field.
import type { Spec } from "../canvas/graph";
import type { ProblemOut } from "./problems";
import {
  NEW_CAP,
  NEW_GOAL,
  NEW_PURCHASE,
  NEW_QUIET,
  capsOf,
  problemsUnder,
  recordOf,
  withCaps,
  withField,
  withSection,
  type Values,
} from "./settings";
import { ProblemList, type FieldSpec } from "../forms/Field";
import { RecordFields as Fields } from "../forms/RecordFields";
import { CAP_FIELDS, PURCHASE_FIELDS, QUIET_FIELDS } from "../policies/fields";

const GOAL_FIELDS: FieldSpec[] = [
  { name: "event", label: "Reached when this event arrives", kind: "event", hint: "e.g. order_completed" },
  { name: "where", label: "Only when", kind: "condition", hint: "a condition on that event, e.g. event.total >= 20" },
  { name: "within", label: "Within", kind: "text", hint: "of entering; 7d when empty" },
  { name: "revenue", label: "Revenue", kind: "text", hint: "the event's field with the amount, e.g. event.total" },
];

/** A workflow's own cap also says whose messages it counts. */
const WORKFLOW_CAP_FIELDS: FieldSpec[] = [
  ...CAP_FIELDS,
  { name: "counts", label: "Counting", kind: { options: ["workflow", "all"] }, hint: "workflow: its own messages; all: every marketing message" },
];

export function WorkflowForm({ spec, problems, onChange }: { spec: Spec; problems: ProblemOut[]; onChange: (spec: Spec) => void }) {
  const goal = spec.goal === undefined ? undefined : recordOf(spec.goal);
  const policies = recordOf(spec.policies);
  const caps = capsOf(policies);
  const quiet = policies.quiet_hours === undefined ? undefined : recordOf(policies.quiet_hours);
  const purchase = policies.after_purchase === undefined ? undefined : recordOf(policies.after_purchase);
  const setGoal = (value: Values | undefined) => onChange(withSection(spec, "goal", value));
  const setPolicies = (value: Values) => onChange(withSection(spec, "policies", value));
  const goalEvent = typeof goal?.event === "string" && goal.event ? goal.event : undefined;
  return (
    <aside className="panel builder__panel" aria-label="Goal and policies">
      <form className="form" onSubmit={(e) => e.preventDefault()}>
        <fieldset className="form__arms" aria-label="Goal">
          <legend className="field__label">Goal</legend>
          <ProblemList problems={problemsUnder(problems, "goal")} label="Problems of the goal" />
          {goal === undefined ? (
            <>
              <p className="form__hint">A goal counts a conversion when its event arrives within a while of entering.</p>
              <button type="button" className="button" onClick={() => setGoal(NEW_GOAL)}>
                Set a goal
              </button>
            </>
          ) : (
            <>
              <Fields id="goal" path="goal" fields={GOAL_FIELDS} values={goal} problems={problems} eventName={goalEvent} onChange={setGoal} />
              <label className="form__check">
                <input
                  type="checkbox"
                  checked={goal.exit !== false}
                  onChange={(e) => setGoal(withField(goal, "exit", e.target.checked ? undefined : false))}
                />{" "}
                Leave the workflow on reaching it
              </label>
              <button type="button" className="button button--ghost" onClick={() => setGoal(undefined)}>
                Remove the goal
              </button>
            </>
          )}
        </fieldset>

        <fieldset className="form__arms" aria-label="Policies">
          <legend className="field__label">Policies</legend>
          <p className="form__hint">
            They add to the workspace&apos;s policies and can only tighten them; transactional messages are exempt from the
            workspace&apos;s caps, quiet hours and purchase window.
          </p>
          <ProblemList problems={problemsUnder(problems, "policies")} label="Problems of the policies" />
          <label className="form__check">
            <input
              type="checkbox"
              checked={policies.transactional === true}
              onChange={(e) => setPolicies(withField(policies, "transactional", e.target.checked ? true : undefined))}
            />{" "}
            Transactional (receipts, resets: messages the contact asked for)
          </label>

          <h3 className="field__label">Frequency caps of its own</h3>
          {caps.map((cap, i) => (
            <div className="form__cap" key={i} role="group" aria-label={`Cap ${i + 1}`}>
              <Fields
                id={`cap-${i}`}
                path={`policies.frequency_caps[${i}]`}
                fields={WORKFLOW_CAP_FIELDS}
                values={cap}
                problems={problems}
                onChange={(changed) => setPolicies(withCaps(policies, caps.map((c, j) => (j === i ? changed : c))))}
              />
              <button
                type="button"
                className="button button--ghost"
                aria-label={`Remove cap ${i + 1}`}
                onClick={() => setPolicies(withCaps(policies, caps.filter((_, j) => j !== i)))}
              >
                Remove this cap
              </button>
            </div>
          ))}
          <button type="button" className="button" onClick={() => setPolicies(withCaps(policies, [...caps, NEW_CAP]))}>
            Add a cap
          </button>

          <h3 className="field__label">Quiet hours</h3>
          {quiet === undefined ? (
            <button type="button" className="button" onClick={() => setPolicies(withField(policies, "quiet_hours", NEW_QUIET))}>
              Add quiet hours
            </button>
          ) : (
            <>
              <Fields
                id="quiet"
                path="policies.quiet_hours"
                fields={QUIET_FIELDS}
                values={quiet}
                problems={problems}
                onChange={(changed) => setPolicies(withField(policies, "quiet_hours", changed))}
              />
              <button type="button" className="button button--ghost" onClick={() => setPolicies(withField(policies, "quiet_hours", undefined))}>
                Remove quiet hours
              </button>
            </>
          )}

          <h3 className="field__label">After a purchase</h3>
          {purchase === undefined ? (
            <button type="button" className="button" onClick={() => setPolicies(withField(policies, "after_purchase", NEW_PURCHASE))}>
              Hold marketing after a purchase
            </button>
          ) : (
            <>
              <Fields
                id="purchase"
                path="policies.after_purchase"
                fields={PURCHASE_FIELDS}
                values={purchase}
                problems={problems}
                onChange={(changed) => setPolicies(withField(policies, "after_purchase", changed))}
              />
              <button
                type="button"
                className="button button--ghost"
                onClick={() => setPolicies(withField(policies, "after_purchase", undefined))}
              >
                Remove the purchase window
              </button>
            </>
          )}
        </fieldset>
      </form>
    </aside>
  );
}
