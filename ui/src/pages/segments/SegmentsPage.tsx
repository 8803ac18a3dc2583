// Segments: every segment with its size; a rule builder that writes the condition, with the
// live size and the first matching contacts as the rules change; save, open, delete.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { Link } from "wouter";
import { api, unwrap } from "../../api/client";
import { ApiError, describe, toApiError } from "../../api/problem";
import type { components } from "../../api/schema";
import { count, moment } from "../common/format";
import { Confirm, Empty, Failure, Loading, PageHeader, useRole } from "../common/parts";
import { conditionOf, FIELD_OPS, keyOf, type FieldOp, type Rule } from "./rules";
import { SizeChart } from "./SizeChart";

type Segment = components["schemas"]["SegmentOut"];

const NEW_FIELD: Rule = { kind: "field", field: "", op: "==", value: "" };
const NEW_EVENT: Rule = { kind: "performed", event: "", atLeast: 1, withinDays: 30 };

/** `value`, once it has stopped changing for `ms`: the preview asks once per pause in typing. */
function useSettled<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
}

/** The server's problems with a condition, each with its path and hint, as lines. */
function problemLines(error: unknown): string[] {
  if (error instanceof ApiError && error.problem?.errors?.length) {
    return error.problem.errors.map((e) => `${e.message}${e.hint ? ` (${e.hint})` : ""}`);
  }
  return [describe(error)];
}

function RuleRow({ rule, onChange, onRemove }: { rule: Rule; onChange: (r: Rule) => void; onRemove: () => void }) {
  if (rule.kind === "performed") {
    return (
      <div className="rule">
        <input
          className="input"
          aria-label="Event"
          placeholder="event, like order_completed"
          value={rule.event}
          onChange={(e) => onChange({ ...rule, event: e.target.value })}
        />
        <input
          className="input"
          aria-label="At least how many times"
          type="number"
          min={1}
          value={rule.atLeast}
          onChange={(e) => onChange({ ...rule, atLeast: Number(e.target.value) })}
        />
        <input
          className="input"
          aria-label="Within days"
          type="number"
          min={1}
          placeholder="any time"
          value={rule.withinDays ?? ""}
          onChange={(e) => onChange({ ...rule, withinDays: e.target.value === "" ? null : Number(e.target.value) })}
        />
        <button type="button" className="button button--ghost button--small" onClick={onRemove} aria-label="Remove rule">
          ×
        </button>
      </div>
    );
  }
  const unary = rule.op === "is null" || rule.op === "is not null";
  return (
    <div className="rule">
      <input
        className="input"
        aria-label="Field"
        placeholder="field, like plan"
        value={rule.field}
        onChange={(e) => onChange({ ...rule, field: e.target.value })}
      />
      <select className="input" aria-label="Comparison" value={rule.op} onChange={(e) => onChange({ ...rule, op: e.target.value as FieldOp })}>
        {FIELD_OPS.map((o) => (
          <option key={o.op} value={o.op}>
            {o.label}
          </option>
        ))}
      </select>
      <input
        className="input"
        aria-label="Value"
        placeholder={unary ? "" : "value"}
        disabled={unary}
        value={unary ? "" : rule.value}
        onChange={(e) => onChange({ ...rule, value: e.target.value })}
      />
      <button type="button" className="button button--ghost button--small" onClick={onRemove} aria-label="Remove rule">
        ×
      </button>
    </div>
  );
}

function Builder({ editing, onSaved }: { editing: Segment | null; onSaved: (s: Segment) => void }) {
  const client = useQueryClient();
  const canEdit = ["editor", "owner"].includes(useRole());
  const [name, setName] = useState(editing?.name ?? "");
  const [rules, setRules] = useState<Rule[]>([{ ...NEW_FIELD }]);
  const [join, setJoin] = useState<"and" | "or">("and");
  // An existing segment opens as its text: the builder writes conditions, it does not read them.
  const [text, setText] = useState<string | null>(editing?.condition ?? null);
  const built = conditionOf(rules, join);
  const condition = text ?? ("condition" in built ? built.condition : "");
  const settled = useSettled(condition, 350);
  const preview = useQuery({
    queryKey: ["segment-preview", settled],
    enabled: settled.trim() !== "",
    retry: false,
    queryFn: () => unwrap(api.POST("/api/segments/preview", { body: { condition: settled } })),
  });
  const key = editing?.key ?? keyOf(name);
  // Saving is a PUT, which replaces: a new segment must not take an existing one's key.
  const existing = useQuery({ queryKey: ["segments"], queryFn: () => unwrap(api.GET("/api/segments")) });
  const taken = !editing && key !== "" && (existing.data ?? []).some((s) => s.key === key);
  const save = useMutation({
    mutationFn: () => unwrap(api.PUT("/api/segments/{key}", { params: { path: { key } }, body: { name: name.trim(), condition } })),
    onSuccess: (segment) => {
      void client.invalidateQueries({ queryKey: ["segments"] });
      onSaved(segment);
    },
  });
  const setRule = (i: number, rule: Rule) => setRules(rules.map((r, j) => (j === i ? rule : r)));

  return (
    <div className="split">
      <section className="card" aria-label="Rules">
        <h2 className="card__title">{editing ? `Edit ${editing.name}` : "New segment"}</h2>
        <label className="field">
          <span className="field__label">Name</span>
          <input className="input" value={name} onChange={(e) => setName(e.target.value)} placeholder="Pro customers" />
          {!editing && key && !taken && <span className="muted small">Key: <code>{key}</code></span>}
          {taken && (
            <span className="alert alert--error small" role="alert">
              A segment with the key <code>{key}</code> exists already: open it to change it, or choose another name.
            </span>
          )}
        </label>
        {text === null ? (
          <>
            <div className="card__header">
              <span className="field__label">Contacts who match</span>
              <select className="select" aria-label="Join rules" value={join} onChange={(e) => setJoin(e.target.value as "and" | "or")}>
                <option value="and">all of these rules</option>
                <option value="or">any of these rules</option>
              </select>
            </div>
            <div className="rules">
              {rules.map((rule, i) => (
                <RuleRow key={i} rule={rule} onChange={(r) => setRule(i, r)} onRemove={() => setRules(rules.filter((_, j) => j !== i))} />
              ))}
            </div>
            <div className="toolbar__buttons chips--spaced">
              <button type="button" className="button button--small" onClick={() => setRules([...rules, { ...NEW_FIELD }])}>
                + Field rule
              </button>
              <button type="button" className="button button--small" onClick={() => setRules([...rules, { ...NEW_EVENT }])}>
                + Event rule
              </button>
              <button
                type="button"
                className="button button--ghost button--small"
                onClick={() => setText("condition" in built ? built.condition : "")}
              >
                Edit as text
              </button>
            </div>
            {"problem" in built ? (
              <p className="muted small">
                Rule {built.row + 1}: {built.problem}
              </p>
            ) : (
              <code className="condition" data-testid="condition">
                {built.condition}
              </code>
            )}
          </>
        ) : (
          <label className="field">
            <span className="field__label">Condition</span>
            <textarea className="input textarea textarea--code" rows={4} value={text} onChange={(e) => setText(e.target.value)} />
          </label>
        )}
        {save.isError && (
          <div className="alert alert--error" role="alert">
            {problemLines(save.error).map((line) => (
              <div key={line}>{line}</div>
            ))}
          </div>
        )}
        <button
          type="button"
          className="button button--primary"
          disabled={!canEdit || !name.trim() || !key || taken || !condition.trim() || save.isPending}
          title={canEdit ? undefined : "Only editors and owners change segments"}
          onClick={() => save.mutate()}
        >
          Save segment
        </button>
      </section>
      <section className="card" aria-label="Preview">
        <h2 className="card__title">Who matches now</h2>
        {!settled.trim() && <p className="muted card__empty">Fill in a rule to see how many contacts match.</p>}
        {settled.trim() && preview.isPending && <Loading what="the count" />}
        {preview.isError && (
          <div className="alert alert--error" role="alert">
            {problemLines(preview.error).map((line) => (
              <div key={line}>{line}</div>
            ))}
          </div>
        )}
        {preview.data && (
          <>
            <p className="size" data-testid="size">
              {count(preview.data.size)} <span className="muted small">{preview.data.size === 1 ? "contact" : "contacts"}</span>
            </p>
            <ul className="plain-list">
              {preview.data.sample.map((m) => (
                <li key={m.id}>
                  <Link href={`/contacts/${m.id}`}>{m.email ?? m.external_id ?? `Contact ${m.id}`}</Link>
                </li>
              ))}
            </ul>
            {preview.data.size > preview.data.sample.length && (
              <p className="muted small">The first {preview.data.sample.length} are shown.</p>
            )}
          </>
        )}
      </section>
      {editing && <SizeChart segmentKey={editing.key} />}
    </div>
  );
}

export function SegmentsTable({ rows, onOpen, onDelete }: { rows: Segment[]; onOpen: (s: Segment) => void; onDelete?: (s: Segment) => void }) {
  return (
    <table className="table">
      <thead>
        <tr>
          <th scope="col">Segment</th>
          <th scope="col">Condition</th>
          <th scope="col" className="num">Contacts</th>
          <th scope="col">Refreshed</th>
          <th scope="col" />
        </tr>
      </thead>
      <tbody>
        {rows.map((s) => (
          <tr key={s.key}>
            <td>
              <button type="button" className="linkish table__link" onClick={() => onOpen(s)}>
                {s.name}
              </button>
              <div className="muted small">
                <code>{s.key}</code>
              </div>
            </td>
            <td>
              <code>{s.condition}</code>
            </td>
            <td className="num">
              <Link href={`/contacts?segment=${encodeURIComponent(s.key)}`}>{count(s.size)}</Link>
            </td>
            <td className="muted">{moment(s.refreshed_at)}</td>
            <td className="num">
              {onDelete && (
                <button type="button" className="button button--small button--danger-outline" onClick={() => onDelete(s)}>
                  Delete
                </button>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function SegmentsPage() {
  const client = useQueryClient();
  const canEdit = ["editor", "owner"].includes(useRole());
  const [building, setBuilding] = useState<{ segment: Segment | null; n: number } | null>(null);
  const [deleting, setDeleting] = useState<Segment | null>(null);
  const segments = useQuery({ queryKey: ["segments"], queryFn: () => unwrap(api.GET("/api/segments")) });
  const remove = useMutation({
    mutationFn: async (key: string) => {
      const { response } = await api.DELETE("/api/segments/{key}", { params: { path: { key } } });
      if (!response.ok) throw await toApiError(response);
    },
    onSuccess: () => void client.invalidateQueries({ queryKey: ["segments"] }),
    onSettled: () => setDeleting(null),
  });
  return (
    <section className="page">
      <PageHeader title="Segments" count={segments.data?.length}>
        {canEdit && (
          <button type="button" className="button button--primary" onClick={() => setBuilding({ segment: null, n: Date.now() })}>
            New segment
          </button>
        )}
      </PageHeader>
      {building && <Builder key={building.n} editing={building.segment} onSaved={() => setBuilding(null)} />}
      {remove.isError && <Failure error={remove.error} />}
      {segments.isPending && <Loading what="segments" />}
      {segments.isError && <Failure error={segments.error} />}
      {segments.data && segments.data.length === 0 && !building && (
        <Empty badge="+" title="No segments yet">
          <p className="empty__text">
            A segment is a named condition, kept current as events arrive: {canEdit ? <>press <strong>New segment</strong> and</> : "an editor or owner can"} add rules,
            like <code>plan is pro</code> or <code>performed order_completed at least 2 times within 30 days</code>.
          </p>
        </Empty>
      )}
      {segments.data && segments.data.length > 0 && (
        <SegmentsTable
          rows={segments.data}
          onOpen={(s) => setBuilding({ segment: s, n: Date.now() })}
          onDelete={canEdit ? setDeleting : undefined}
        />
      )}
      {deleting && (
        <Confirm
          title={`Delete ${deleting.name}?`}
          action="Delete segment"
          busy={remove.isPending}
          onConfirm={() => remove.mutate(deleting.key)}
          onCancel={() => setDeleting(null)}
        >
          <p>Workflows triggered by entering this segment stop starting. Contacts are not changed.</p>
        </Confirm>
      )}
    </section>
  );
}
