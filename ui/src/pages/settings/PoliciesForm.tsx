// The workspace's send-time policies as a form: each rule off until it is added, its fields
// with the server's problem under each. The same field specs as a workflow's own policies in
// the builder; the workspace's caps are `caps` and count every marketing message.
import { ProblemList, type PathProblem } from "../../forms/Field";
import { RecordFields } from "../../forms/RecordFields";
import { listOf, optionalRecord, withField, withList, type Values } from "../../forms/values";
import {
  ALERT_BUDGET_FIELDS,
  CAP_FIELDS,
  DUPLICATE_FIELDS,
  NEW_ALERT_BUDGET,
  NEW_CAP,
  NEW_DUPLICATES,
  NEW_PURCHASE,
  NEW_QUIET,
  PURCHASE_FIELDS,
  QUIET_FIELDS,
} from "../../policies/fields";

/** The single-record rules: each is off (unset) until added. */
const RULES = [
  { name: "quiet_hours", title: "Quiet hours", fields: QUIET_FIELDS, fresh: NEW_QUIET, add: "Add quiet hours", remove: "Remove quiet hours" },
  { name: "after_purchase", title: "After a purchase", fields: PURCHASE_FIELDS, fresh: NEW_PURCHASE, add: "Hold marketing after a purchase", remove: "Remove the purchase window" },
  { name: "duplicates", title: "Duplicates", fields: DUPLICATE_FIELDS, fresh: NEW_DUPLICATES, add: "Drop duplicate messages", remove: "Stop dropping duplicates" },
  { name: "alert_budget", title: "Alert budget", fields: ALERT_BUDGET_FIELDS, fresh: NEW_ALERT_BUDGET, add: "Limit internal alerts", remove: "Remove the alert budget" },
] as const;

/** The problems about a whole rule (quiet hours that start when they end), not one field. */
const at = (problems: PathProblem[], path: string) => problems.filter((p) => p.path === path);

export function PoliciesForm({ policies, problems, onChange }: { policies: Values; problems: PathProblem[]; onChange: (policies: Values) => void }) {
  const caps = listOf(policies, "caps");
  const setCaps = (next: Values[]) => onChange(withList(policies, "caps", next));
  const timezone = problems.find((p) => p.path === "policies.timezone");
  return (
    <div className="policy-form">
      <fieldset className="form__arms" aria-label="Frequency caps">
        <legend className="field__label">Frequency caps</legend>
        <p className="form__hint">Every marketing message to a contact counts, from any workflow or broadcast.</p>
        <ProblemList problems={at(problems, "policies.caps")} label="Problems of the caps" />
        {caps.map((cap, i) => (
          <div className="form__cap" key={i} role="group" aria-label={`Cap ${i + 1}`}>
            <RecordFields
              id={`ws-cap-${i}`}
              path={`policies.caps.${i}`}
              fields={CAP_FIELDS}
              values={cap}
              problems={problems}
              onChange={(changed) => setCaps(caps.map((c, j) => (j === i ? changed : c)))}
            />
            <button type="button" className="button button--ghost button--small" aria-label={`Remove cap ${i + 1}`} onClick={() => setCaps(caps.filter((_, j) => j !== i))}>
              Remove this cap
            </button>
          </div>
        ))}
        <button type="button" className="button button--small" onClick={() => setCaps([...caps, NEW_CAP])}>
          Add a cap
        </button>
      </fieldset>
      {RULES.map((rule) => {
        const values = optionalRecord(policies, rule.name);
        const path = `policies.${rule.name}`;
        return (
          <fieldset className="form__arms" key={rule.name} aria-label={rule.title}>
            <legend className="field__label">{rule.title}</legend>
            <ProblemList problems={at(problems, path)} label={`Problems of ${rule.title.toLowerCase()}`} />
            {values === undefined ? (
              <button type="button" className="button button--small" onClick={() => onChange(withField(policies, rule.name, rule.fresh))}>
                {rule.add}
              </button>
            ) : (
              <>
                <RecordFields
                  id={`ws-${rule.name}`}
                  path={path}
                  fields={rule.fields}
                  values={values}
                  problems={problems}
                  onChange={(changed) => onChange(withField(policies, rule.name, changed))}
                />
                <button type="button" className="button button--ghost button--small" onClick={() => onChange(withField(policies, rule.name, undefined))}>
                  {rule.remove}
                </button>
              </>
            )}
          </fieldset>
        );
      })}
      <fieldset className="form__arms" aria-label="Timezone">
        <legend className="field__label">Timezone</legend>
        <div className="form__row">
          <label className="field__label" htmlFor="ws-timezone">
            The workspace&apos;s timezone
          </label>
          <input
            id="ws-timezone"
            className="input"
            value={typeof policies.timezone === "string" ? policies.timezone : ""}
            aria-invalid={timezone ? true : undefined}
            onChange={(e) => onChange(withField(policies, "timezone", e.target.value || undefined))}
          />
          {timezone ? (
            <p className="form__problem">{timezone.message}</p>
          ) : (
            <p className="form__hint">The alert budget&apos;s day, and contacts with none of their own; e.g. Europe/London. UTC when empty.</p>
          )}
        </div>
      </fieldset>
    </div>
  );
}
