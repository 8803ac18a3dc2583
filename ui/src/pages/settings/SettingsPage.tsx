// Settings: delivery (sender identity, policies, topics, alert targets), API keys (shown once,
// revocable), people and roles, and the audit log. The server lets owners change these (and
// editors read the audit log); the page says so to others instead of failing at them.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useId, useState, type FormEvent } from "react";
import { api, unwrap } from "../../api/client";
import { ApiError, toApiError } from "../../api/problem";
import type { components } from "../../api/schema";
import { moment } from "../common/format";
import { Confirm, Empty, Failure, Loading, PageHeader, Tabs, useRole } from "../common/parts";
import { DiffLines } from "../WorkflowVersions";
import { auditDiff, auditFacts, auditSentence, type AuditEntry } from "./auditEntry";
import { recordOf, type Values } from "../../forms/values";
import { PoliciesForm } from "./PoliciesForm";
import { fieldProblem, parsePolicies, policiesSummary, serverProblems } from "./policies";

type Settings = components["schemas"]["DeliverySettings-Output"];
type SettingsIn = components["schemas"]["DeliverySettings-Input"];
type Topic = Settings["topics"][number];
type KeyKind = components["schemas"]["KeyKind"];

export const SETTINGS_TABS = [
  { key: "delivery", label: "Delivery" },
  { key: "keys", label: "API keys" },
  { key: "people", label: "People" },
  { key: "audit", label: "Audit log" },
] as const;

const ROLES = ["owner", "editor", "approver", "viewer"] as const;
type RoleName = (typeof ROLES)[number];

/** Each problem the server found, with the field it is about. */
function Problems({ error }: { error: unknown }) {
  if (error instanceof ApiError && error.problem?.errors?.length) {
    return (
      <div className="alert alert--error" role="alert">
        <strong>{error.problem.title}</strong>
        {error.problem.errors.map((e) => (
          <div key={`${e.path}-${e.message}`}>
            <code>{e.path.replace(/^body\./, "")}</code>: {e.message.replace(/^Value error, /, "")}
            {e.hint ? ` (${e.hint})` : ""}
          </div>
        ))}
      </div>
    );
  }
  return <Failure error={error} />;
}

function Text({
  label,
  value,
  onChange,
  hint,
  problem,
  type = "text",
}: {
  label: string;
  value: string;
  onChange: (v: string) => void;
  hint?: string;
  problem?: string | undefined;
  type?: string;
}) {
  // The hint or the problem describes the input; it is not part of the field's name.
  const id = useId();
  const note = problem ?? hint;
  return (
    <div className="field">
      <label className="field__label" htmlFor={id}>
        {label}
      </label>
      <input
        id={id}
        className="input"
        type={type}
        value={value}
        aria-invalid={problem ? true : undefined}
        aria-describedby={note ? `${id}-note` : undefined}
        onChange={(e) => onChange(e.target.value)}
      />
      {note && (
        <span id={`${id}-note`} className={problem ? "form__problem small" : "muted small"}>
          {note}
        </span>
      )}
    </div>
  );
}

/** The rules in words while the JSON parses; what is wrong with it when it does not. */
function policyLines(source: string): string[] {
  try {
    return policiesSummary(JSON.parse(source));
  } catch (error) {
    return [`The JSON does not parse yet: ${(error as Error).message}`];
  }
}

export function DeliveryForm({ initial }: { initial: Settings }) {
  const client = useQueryClient();
  const [form, setForm] = useState<Settings>(initial);
  // The form and the JSON editor show the same rules: the form edits the parsed rules and
  // rewrites the JSON; the JSON, while it parses, is the rules.
  const [rules, setRules] = useState<Values>(recordOf(initial.policies));
  const [policies, setPolicies] = useState(JSON.stringify(initial.policies, null, 2));
  const [asJson, setAsJson] = useState(false);
  const [policiesProblem, setPoliciesProblem] = useState<string | null>(null);
  // "Saved" is about what was sent: any edit after it makes it untrue, so every edit clears it.
  const [saved, setSaved] = useState(false);
  const edit = (next: Settings) => {
    setForm(next);
    setSaved(false);
  };
  const editRules = (next: Values) => {
    setRules(next);
    setPolicies(JSON.stringify(next, null, 2));
    setSaved(false);
  };
  const editJson = (source: string) => {
    setPolicies(source);
    setSaved(false);
    const parsed = parsePolicies(source);
    if ("policies" in parsed) setRules(parsed.policies);
  };
  // While the JSON does not parse, the form would show (and an edit there would write over)
  // the last rules that did: the form stays closed until the JSON is fixed.
  const typed = parsePolicies(policies);
  const jsonProblem = asJson && "problem" in typed ? typed.problem : null;
  const sender = form.sender;
  const setSender = (changes: Partial<Settings["sender"]>) => edit({ ...form, sender: { ...sender, ...changes } });
  const setTopic = (i: number, changes: Partial<Topic>) =>
    edit({ ...form, topics: form.topics.map((t, j) => (j === i ? { ...t, ...changes } : t)) });
  const save = useMutation({
    mutationFn: (body: SettingsIn) => unwrap(api.PUT("/api/settings", { body })),
    onSuccess: (next) => {
      client.setQueryData(["settings"], next);
      setSaved(true);
    },
  });
  const problem = (path: string) => (save.isError ? fieldProblem(save.error, path) : undefined);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setSaved(false);
    const parsed = parsePolicies(policies);
    if ("problem" in parsed) {
      setPoliciesProblem(parsed.problem);
      return;
    }
    setPoliciesProblem(null);
    save.mutate({ ...form, policies: parsed.policies } as SettingsIn);
  };
  return (
    <form onSubmit={submit} aria-label="Delivery settings">
      <section className="card card--wide">
        <h2 className="card__title">Sender identity</h2>
        <div className="form-grid">
          <Text label="From address" value={sender.from_email ?? ""} onChange={(v) => setSender({ from_email: v })} problem={problem("sender.from_email")} />
          <Text label="From name" value={sender.from_name ?? ""} onChange={(v) => setSender({ from_name: v })} problem={problem("sender.from_name")} />
          <Text label="Reply-to" value={sender.reply_to ?? ""} onChange={(v) => setSender({ reply_to: v || null })} problem={problem("sender.reply_to")} />
          <Text
            label="DKIM domain"
            value={sender.dkim_domain ?? ""}
            onChange={(v) => setSender({ dkim_domain: v || null })}
            hint="Defaults to the from address's domain."
            problem={problem("sender.dkim_domain")}
          />
        </div>
        <Text
          label="Postal address"
          value={sender.postal_address ?? ""}
          onChange={(v) => setSender({ postal_address: v })}
          hint="Shown in the footer of every marketing email, as the law asks."
          problem={problem("sender.postal_address")}
        />
      </section>
      <section className="card card--wide">
        <div className="card__header">
          <h2 className="card__title">Topics</h2>
          <button
            type="button"
            className="button button--small"
            onClick={() => edit({ ...form, topics: [...form.topics, { key: "", name: "", description: "" }] })}
          >
            + Topic
          </button>
        </div>
        {form.topics.length === 0 ? (
          <p className="muted card__empty">No topics: contacts can only leave all marketing at once. Add one, like news or offers.</p>
        ) : (
          <div className="rules">
            {form.topics.map((topic, i) => (
              <div key={i} className="rule">
                <input className="input" aria-label="Topic key" placeholder="key, like news" value={topic.key} onChange={(e) => setTopic(i, { key: e.target.value })} />
                <input className="input" aria-label="Topic name" placeholder="name" value={topic.name} onChange={(e) => setTopic(i, { name: e.target.value })} />
                <input
                  className="input"
                  aria-label="Topic description"
                  placeholder="what it sends"
                  value={topic.description ?? ""}
                  onChange={(e) => setTopic(i, { description: e.target.value })}
                />
                <button
                  type="button"
                  className="button button--ghost button--small"
                  aria-label="Remove topic"
                  onClick={() => edit({ ...form, topics: form.topics.filter((_, j) => j !== i) })}
                >
                  ×
                </button>
              </div>
            ))}
          </div>
        )}
      </section>
      <section className="card card--wide">
        <h2 className="card__title">Alert targets</h2>
        <Text
          label="Slack webhook URL"
          value={form.alerts.slack_webhook_url ?? ""}
          onChange={(v) => edit({ ...form, alerts: { ...form.alerts, slack_webhook_url: v || null } })}
          hint="Where notify steps on the slack channel post."
          problem={problem("alerts.slack_webhook_url")}
        />
        <label className="field">
          <span className="field__label">
            <input type="checkbox" checked={form.double_opt_in ?? false} onChange={(e) => edit({ ...form, double_opt_in: e.target.checked })} />{" "}
            Double opt-in: email consent waits for the confirmation link
          </span>
        </label>
      </section>
      <section className="card card--wide">
        <div className="card__header">
          <h2 className="card__title">Policies</h2>
          <div className="toolbar__buttons" role="group" aria-label="Edit the policies">
            <button
              type="button"
              className="button button--small"
              aria-pressed={!asJson}
              disabled={jsonProblem !== null}
              aria-describedby={jsonProblem !== null ? "policies-form-closed" : undefined}
              onClick={() => setAsJson(false)}
            >
              Form
            </button>
            <button type="button" className="button button--small" aria-pressed={asJson} onClick={() => setAsJson(true)}>
              JSON
            </button>
          </div>
        </div>
        <p className="muted small">
          Frequency caps, quiet hours, the pause after a purchase, duplicate suppression and the alert budget. Every rule is off until
          it is set; the dispatcher applies them within seconds.
        </p>
        <ul className="policy-lines" data-testid="policies-summary" aria-label="What the policies do">
          {policyLines(policies).map((line) => (
            <li key={line}>{line}</li>
          ))}
        </ul>
        {jsonProblem !== null && (
          <p className="muted small" id="policies-form-closed">
            The form opens again once the JSON parses: it would otherwise show, and save over, the rules as they were.
          </p>
        )}
        {asJson ? (
          <textarea className="input textarea textarea--code" aria-label="Policies" rows={12} value={policies} onChange={(e) => editJson(e.target.value)} />
        ) : (
          <PoliciesForm policies={rules} problems={save.isError ? serverProblems(save.error) : []} onChange={editRules} />
        )}
      </section>
      {policiesProblem && (
        <p className="alert alert--error" role="alert">
          {policiesProblem}
        </p>
      )}
      {save.isError && <Problems error={save.error} />}
      {saved && (
        <p className="alert alert--ok" role="status">
          Saved. New messages follow these settings.
        </p>
      )}
      <button type="submit" className="button button--primary" disabled={save.isPending}>
        Save delivery settings
      </button>
    </form>
  );
}

function Delivery() {
  const settings = useQuery({ queryKey: ["settings"], queryFn: () => unwrap(api.GET("/api/settings")) });
  if (settings.isPending) return <Loading what="the settings" />;
  if (settings.isError) return <Failure error={settings.error} />;
  return <DeliveryForm initial={settings.data} />;
}

/** What the workspace's policies do, for those who may read them (everyone) but not change
 * them (owners only): the sentences, without a form. */
function PoliciesReadOnly() {
  const settings = useQuery({ queryKey: ["settings"], queryFn: () => unwrap(api.GET("/api/settings")) });
  if (settings.isPending) return <Loading what="the policies" />;
  if (settings.isError) return <Failure error={settings.error} />;
  return (
    <section className="card card--wide">
      <h2 className="card__title">Policies</h2>
      <ul className="policy-lines" data-testid="policies-summary" aria-label="What the policies do">
        {policiesSummary(settings.data.policies).map((line) => (
          <li key={line}>{line}</li>
        ))}
      </ul>
    </section>
  );
}

function Keys() {
  const client = useQueryClient();
  const [kind, setKind] = useState<KeyKind>("public");
  const [revoking, setRevoking] = useState<number | null>(null);
  const keys = useQuery({ queryKey: ["keys"], queryFn: () => unwrap(api.GET("/api/keys")) });
  const create = useMutation({
    mutationFn: () => unwrap(api.POST("/api/keys", { body: { kind } })),
    onSuccess: () => void client.invalidateQueries({ queryKey: ["keys"] }),
  });
  const revoke = useMutation({
    mutationFn: async (id: number) => {
      const { response } = await api.DELETE("/api/keys/{key_id}", { params: { path: { key_id: id } } });
      if (!response.ok) throw await toApiError(response);
    },
    onSuccess: () => void client.invalidateQueries({ queryKey: ["keys"] }),
    onSettled: () => setRevoking(null),
  });
  return (
    <div className="stack">
      <section className="card">
        <h2 className="card__title">New key</h2>
        <div className="toolbar__buttons">
          <select className="input" aria-label="Kind of key" value={kind} onChange={(e) => setKind(e.target.value as KeyKind)}>
            <option value="public">Public key: sends events from your website's pages (allowed origins only)</option>
            <option value="write">Write key: sends events from your backend and apps, never from a web page</option>
            <option value="secret">Secret key: the whole admin API (for your servers)</option>
          </select>
          <button type="button" className="button button--primary" onClick={() => create.mutate()} disabled={create.isPending}>
            Create key
          </button>
        </div>
        {create.isError && <Failure error={create.error} />}
        {create.data && (
          <div className="alert alert--ok" role="status">
            <strong>Copy this {create.data.kind} key now: it is shown only once.</strong>
            <div className="secret">
              <code data-testid="new-key">{create.data.key}</code>
            </div>
          </div>
        )}
      </section>
      {keys.isPending && <Loading what="keys" />}
      {keys.isError && <Failure error={keys.error} />}
      {revoke.isError && <Failure error={revoke.error} />}
      {keys.data && keys.data.length === 0 && (
        <Empty badge="+" title="No API keys yet">
          <p className="empty__text">Create a write key for your site's tracking, or a secret key for scripts.</p>
        </Empty>
      )}
      {keys.data && keys.data.length > 0 && (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Key</th>
              <th scope="col">Kind</th>
              <th scope="col">Created</th>
              <th scope="col">Status</th>
              <th scope="col" />
            </tr>
          </thead>
          <tbody>
            {keys.data.map((k) => (
              <tr key={k.id}>
                <td>
                  <code>{k.prefix}…</code>
                </td>
                <td>{k.kind}</td>
                <td className="muted">{moment(k.created_at)}</td>
                <td>{k.revoked_at ? <span className="pill pill--failed">revoked {moment(k.revoked_at)}</span> : <span className="pill pill--active">active</span>}</td>
                <td className="num">
                  {!k.revoked_at && (
                    <button type="button" className="button button--small button--danger-outline" onClick={() => setRevoking(k.id)}>
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {revoking !== null && (
        <Confirm
          title="Revoke this key?"
          action="Revoke key"
          busy={revoke.isPending}
          onConfirm={() => revoke.mutate(revoking)}
          onCancel={() => setRevoking(null)}
        >
          <p>Whatever uses it stops working within 30 seconds. This cannot be undone; create a new key to replace it.</p>
        </Confirm>
      )}
    </div>
  );
}

function People() {
  const client = useQueryClient();
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<RoleName>("editor");
  const [removing, setRemoving] = useState<string | null>(null);
  const people = useQuery({ queryKey: ["people"], queryFn: () => unwrap(api.GET("/api/people")) });
  const refresh = () => void client.invalidateQueries({ queryKey: ["people"] });
  const invite = useMutation({
    mutationFn: () => unwrap(api.POST("/api/people", { body: { email: email.trim(), role, name: "" } })),
    onSuccess: () => {
      setEmail("");
      refresh();
    },
  });
  const change = useMutation({
    mutationFn: ({ who, to }: { who: string; to: RoleName }) =>
      unwrap(api.PATCH("/api/people/{email}", { params: { path: { email: who } }, body: { role: to } })),
    onSuccess: refresh,
  });
  const remove = useMutation({
    mutationFn: async (who: string) => {
      const { response } = await api.DELETE("/api/people/{email}", { params: { path: { email: who } } });
      if (!response.ok) throw await toApiError(response);
    },
    onSuccess: refresh,
    onSettled: () => setRemoving(null),
  });
  const error = invite.error ?? change.error ?? remove.error;
  return (
    <div className="stack">
      <form
        className="toolbar"
        aria-label="Invite"
        onSubmit={(e) => {
          e.preventDefault();
          invite.mutate();
        }}
      >
        <label className="toolbar__field toolbar__field--wide">
          <span className="field__label">Invite by email</span>
          <input className="input" type="email" value={email} onChange={(e) => setEmail(e.target.value)} placeholder="name@company.example" />
        </label>
        <label className="toolbar__field">
          <span className="field__label">As</span>
          <select className="input" value={role} onChange={(e) => setRole(e.target.value as RoleName)}>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" className="button button--primary" disabled={!email.trim() || invite.isPending}>
          Invite
        </button>
      </form>
      {error && <Problems error={error} />}
      {invite.data?.invite_url && (
        <div className="alert alert--ok" role="status">
          <strong>Send this link to {invite.data.email}; it is shown only once:</strong>
          <div className="secret">
            <code>{invite.data.invite_url}</code>
          </div>
        </div>
      )}
      {people.isPending && <Loading what="people" />}
      {people.isError && <Failure error={people.error} />}
      {people.data && (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Person</th>
              <th scope="col">Role</th>
              <th scope="col">Since</th>
              <th scope="col" />
            </tr>
          </thead>
          <tbody>
            {people.data.map((p) => (
              <tr key={p.email}>
                <td>
                  <strong>{p.name || p.email}</strong>
                  <div className="muted small">
                    {p.email}
                    {p.invited ? " · invited, not yet joined" : ""}
                  </div>
                </td>
                <td>
                  <select
                    className="select"
                    aria-label={`Role of ${p.email}`}
                    value={p.role}
                    disabled={change.isPending}
                    onChange={(e) => change.mutate({ who: p.email, to: e.target.value as RoleName })}
                  >
                    {ROLES.map((r) => (
                      <option key={r} value={r}>
                        {r}
                      </option>
                    ))}
                  </select>
                </td>
                <td className="muted">{moment(p.created_at)}</td>
                <td className="num">
                  <button type="button" className="button button--small button--danger-outline" onClick={() => setRemoving(p.email)}>
                    Remove
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {removing && (
        <Confirm
          title={`Remove ${removing}?`}
          action="Remove"
          busy={remove.isPending}
          onConfirm={() => remove.mutate(removing)}
          onCancel={() => setRemoving(null)}
        >
          <p>They lose access to this workspace at once; their past changes stay on the audit log.</p>
        </Confirm>
      )}
    </div>
  );
}

function AuditWhat({ entry }: { entry: AuditEntry }) {
  const facts = auditFacts(entry.details);
  const diff = auditDiff(entry.details);
  return (
    <div className="audit-what">
      <span>{auditSentence(entry)}</span>
      {facts.length > 0 && (
        <dl className="audit-what__facts small">
          {facts.map(([label, value]) => (
            <div key={label}>
              <dt className="muted">{label}</dt>
              <dd>{value}</dd>
            </div>
          ))}
        </dl>
      )}
      {diff && (
        <details className="audit-what__diff">
          <summary className="small">
            What changed: <span className="diff--add">+{diff.added}</span> <span className="diff--del">−{diff.removed}</span> lines
          </summary>
          <pre className="audit-what__pre">
            <DiffLines diff={diff.text} />
          </pre>
        </details>
      )}
    </div>
  );
}

function Audit() {
  const [before, setBefore] = useState<number[]>([]);
  const page = before[before.length - 1];
  const audit = useQuery({
    queryKey: ["audit", page],
    queryFn: () => unwrap(api.GET("/api/audit", { params: { query: { before: page, limit: 50 } } })),
  });
  if (audit.isPending) return <Loading what="the audit log" />;
  if (audit.isError) return <Failure error={audit.error} />;
  const { entries, next_before } = audit.data;
  if (entries.length === 0) {
    return (
      <Empty badge="·" title="No change recorded yet">
        <p className="empty__text">Every change to workflows, segments, settings, keys and people appears here: who, when and what.</p>
      </Empty>
    );
  }
  return (
    <>
      <table className="table audit-log">
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Who</th>
            <th scope="col">What</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((e) => (
            <tr key={e.id}>
              <td className="muted">{moment(e.at)}</td>
              <td>
                {e.actor} <span className="muted small">{e.actor_type}</span>
              </td>
              <td>
                <AuditWhat entry={e} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="pager">
        <button type="button" className="button" disabled={before.length === 0} onClick={() => setBefore(before.slice(0, -1))}>
          Newer
        </button>
        <button type="button" className="button" disabled={next_before === null} onClick={() => next_before !== null && setBefore([...before, next_before])}>
          Older
        </button>
      </div>
    </>
  );
}

export function SettingsPage({ tab }: { tab: string }) {
  const role = useRole();
  const active = SETTINGS_TABS.some((t) => t.key === tab) ? tab : "delivery";
  const allowed = role === "owner" || (active === "audit" && role === "editor");
  return (
    <section className="page">
      <PageHeader title="Settings" />
      <Tabs tabs={SETTINGS_TABS} active={active} base="/settings" />
      {!allowed && active === "delivery" ? (
        <div className="stack">
          <p className="alert alert--info">
            Only an owner of this workspace changes the delivery settings. You are {role === "editor" || role === "approver" ? "an" : "a"} {role}; here is what
            the policies do.
          </p>
          <PoliciesReadOnly />
        </div>
      ) : !allowed ? (
        <p className="alert alert--info">
          Only an owner of this workspace sees and changes {active === "audit" ? "the audit log (editors read it too)" : "these settings"}. You are{" "}
          {role === "editor" || role === "approver" ? "an" : "a"} {role}; ask an owner to change your role.
        </p>
      ) : active === "delivery" ? (
        <Delivery />
      ) : active === "keys" ? (
        <Keys />
      ) : active === "people" ? (
        <People />
      ) : (
        <Audit />
      )}
    </section>
  );
}

