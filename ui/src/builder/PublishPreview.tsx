// The publish dialog's look ahead, loaded when the dialog opens (a lazy chunk): what the
// draft would do to the workspace's own contacts (a dry run on a sample; nothing is sent),
// and, when journeys wait in older versions, where each would go if moved.
import { useQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api, unwrap } from "../api/client";
import { ApiError, describe } from "../api/problem";
import type { components } from "../api/schema";
import { mappableSteps, withMapping, type StepMap } from "./moveMap";

export type DryRunSummary = components["schemas"]["DryRunSummary"];
export type StepSummary = components["schemas"]["StepSummary"];
export type MigrationOut = components["schemas"]["MigrationOut"];

/** What the dry run replays: how many contacts, events of how long ago, how many days on. */
export interface SampleForm {
  sample: number;
  since: string;
  days: number;
}

export const DEFAULT_SAMPLE: SampleForm = { sample: 500, since: "30d", days: 7 };

/** Steps that send something, or that a policy or a missing consent stopped from sending. */
export function messageSteps(steps: StepSummary[]): StepSummary[] {
  const any = (counts: Record<string, number> = {}) => Object.values(counts).some((n) => n > 0);
  return steps.filter((s) => ["send", "webhook"].includes(s.kind) || s.sent || s.queued || any(s.deferred) || any(s.dropped) || any(s.held));
}

/** "quiet_hours 3, cap 1", or "—" when nothing: counts by the policy that made them. */
export function byPolicy(counts: Record<string, number> = {}): string {
  const parts = Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([rule, n]) => `${rule} ${n.toLocaleString()}`);
  return parts.length ? parts.join(", ") : "—";
}

/** One line a person can act on, for the dry run's failures the dialog expects. */
export function dryRunError(error: unknown): string {
  if (error instanceof ApiError && error.status === 429) {
    return "Another dry run is running on the server; try again when it is done.";
  }
  if (error instanceof ApiError && error.status === 400) {
    const fields = (error.problem?.errors ?? []).map((e) => `${e.path.replace(/^body\./, "")}: ${e.message}`);
    return fields.length ? `The sample is outside the limits — ${fields.join("; ")}` : describe(error);
  }
  if (error instanceof ApiError && error.status === 422) {
    const first = error.problem?.errors?.[0];
    return `The draft has problems to fix first${first ? ` — ${first.path}: ${first.message}` : ""}.`;
  }
  return describe(error);
}

/** The dry run of the draft (or, with no draft, of the live version) on a sample. */
export function OnYourContacts({ workflowKey, draft }: { workflowKey: string; draft: boolean }) {
  const [form, setForm] = useState<SampleForm>(DEFAULT_SAMPLE);
  const [asked, setAsked] = useState<SampleForm>(DEFAULT_SAMPLE);
  const run = useQuery({
    queryKey: ["publish-dry-run", workflowKey, draft, asked],
    queryFn: () =>
      unwrap(api.POST("/api/workflows/{key}/dry-run", { params: { path: { key: workflowKey } }, body: { ...asked, seed: 7, draft } })),
    retry: false,
    gcTime: 0,
    refetchOnWindowFocus: false,
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (JSON.stringify(form) === JSON.stringify(asked)) void run.refetch();
    else setAsked(form);
  };
  const flow = run.data?.workflows.find((w) => w.key === workflowKey) ?? run.data?.workflows[0];
  return (
    <section className="publish-preview" aria-label="On your contacts">
      <h3 className="publish-preview__title">On your contacts</h3>
      <form className="publish-preview__form" onSubmit={submit}>
        <label>
          Contacts{" "}
          <input className="input" type="number" min={1} max={2000} aria-label="Contacts in the sample" value={form.sample}
            onChange={(e) => setForm({ ...form, sample: Number(e.target.value) })} />
        </label>
        <label>
          events of the last{" "}
          <input className="input" aria-label="Events of the last" value={form.since} size={5}
            onChange={(e) => setForm({ ...form, since: e.target.value })} />
        </label>
        <label>
          then days{" "}
          <input className="input" type="number" min={0} max={30} aria-label="Days after" value={form.days}
            onChange={(e) => setForm({ ...form, days: Number(e.target.value) })} />
        </label>
        <button type="submit" className="button" disabled={run.isFetching}>
          Run again
        </button>
      </form>
      {run.isFetching && <p className="muted" role="status">Replaying {asked.sample.toLocaleString()} contacts… nothing is sent.</p>}
      {run.isError && !run.isFetching && (
        <p className="alert alert--error" role="alert">
          {dryRunError(run.error)}
        </p>
      )}
      {run.data && flow && !run.isFetching && (
        <div data-testid="publish-dry-run">
          <p>
            Of {run.data.contacts.toLocaleString()} contacts ({run.data.events.toLocaleString()} events replayed),{" "}
            <strong>{flow.entered.toLocaleString()}</strong> would enter.
          </p>
          <table className="table">
            <thead>
              <tr>
                <th>Message step</th>
                <th>Sent</th>
                <th>Still queued</th>
                <th>Deferred by</th>
                <th>Dropped by</th>
                <th>Not queued</th>
              </tr>
            </thead>
            <tbody>
              {messageSteps(flow.steps).map((s) => (
                <tr key={s.step_id}>
                  <td>{s.step_id}</td>
                  <td>{s.sent.toLocaleString()}</td>
                  <td>{s.queued.toLocaleString()}</td>
                  <td>{byPolicy(s.deferred)}</td>
                  <td>{byPolicy(s.dropped)}</td>
                  <td>{byPolicy(s.held)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {flow.never_reached.length > 0 && <p className="muted">Never reached: {flow.never_reached.join(", ")}.</p>}
          {run.data.warnings.map((warning, i) => (
            <p key={i} className="alert" role="note">
              {warning}
            </p>
          ))}
        </div>
      )}
    </section>
  );
}

/** The choices of the step map: for each step contacts would stay at, a step of the new
 * version to move them to instead. */
function StepMapForm({ steps, targets, map, onMap }: { steps: string[]; targets: string[]; map: StepMap; onMap: (map: StepMap) => void }) {
  if (!steps.length) return null;
  return (
    <fieldset className="publish-preview__map" aria-label="Step map">
      <legend>Steps renamed or removed: send their contacts to</legend>
      {steps.map((from) => (
        <label key={from} className="publish-preview__mapping">
          <code>{from}</code> →{" "}
          <select className="select" aria-label={`Move contacts at ${from} to`} value={map[from] ?? ""} onChange={(e) => onMap(withMapping(map, from, e.target.value))}>
            <option value="">(they stay on their version)</option>
            {targets.map((to) => (
              <option key={to} value={to}>
                {to}
              </option>
            ))}
          </select>
        </label>
      ))}
    </fieldset>
  );
}

/** Journeys waiting in older versions: where each would go, the map for steps renamed or
 * removed, and the choice to move them. */
export function WaitingMove({
  workflowKey,
  move,
  onMove,
  map = {},
  onMap = () => {},
  targets = [],
}: {
  workflowKey: string;
  move: boolean;
  onMove: (move: boolean) => void;
  map?: StepMap;
  onMap?: (map: StepMap) => void;
  targets?: string[];
}) {
  const ask = (with_: StepMap) => ({
    queryKey: ["publish-move-plan", workflowKey, with_],
    queryFn: () =>
      unwrap(api.POST("/api/workflows/{key}/migration", { params: { path: { key: workflowKey } }, body: { map: with_, draft: true } })),
    retry: false,
    gcTime: 0,
    refetchOnWindowFocus: false,
  });
  const mapped = Object.keys(map).length > 0;
  // The plan without a map, and with it: a map the server refuses leaves the plan without it
  // on screen, with the reason; the plan of the map before stays while a new one is worked out.
  const bare = useQuery(ask({}));
  const withMap = useQuery({ ...ask(map), enabled: mapped, placeholderData: (previous) => previous });
  const refused = mapped && withMap.isError ? mapProblems(withMap.error) : null;
  const plan = mapped && !refused ? withMap : bare;
  if (plan.isPending) return <p className="muted">Looking for contacts waiting in older versions…</p>;
  if (plan.isError) {
    return (
      <p className="alert alert--error" role="alert">
        Could not plan a move of the waiting contacts: {describe(plan.error)}
      </p>
    );
  }
  const { lines, moved, stranded } = plan.data;
  if (!lines.length && !mapped) return null;
  return (
    <section className="publish-preview" aria-label="Contacts waiting in older versions">
      <h3 className="publish-preview__title">Contacts waiting in older versions</h3>
      <p aria-busy={plan.isFetching || undefined}>
        {moved.toLocaleString()} could move to the new version; {stranded.toLocaleString()} would stay on theirs.
      </p>
      <table className="table" data-testid="move-plan">
        <thead>
          <tr>
            <th>Version</th>
            <th>Waiting at</th>
            <th>Goes to</th>
            <th>Contacts</th>
            <th>Why</th>
          </tr>
        </thead>
        <tbody>
          {lines.map((line, i) => (
            <tr key={i}>
              <td>{line.from_version}</td>
              <td>{line.from_step}</td>
              <td>{line.to_step ?? "stays"}</td>
              <td>{line.contacts.toLocaleString()}</td>
              <td>{line.note}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <StepMapForm steps={mappableSteps(lines, map)} targets={targets} map={map} onMap={onMap} />
      {refused && (
        <p className="alert alert--error" role="alert">
          The map does not fit: {refused}. The plan above is without it.
        </p>
      )}
      <fieldset className="publish-preview__choice">
        <legend>After publishing, the waiting contacts:</legend>
        <label>
          <input type="radio" name="waiting" checked={!move} onChange={() => onMove(false)} /> Leave them on their version (default)
        </label>
        <label>
          <input type="radio" name="waiting" checked={move} disabled={moved === 0 || refused !== null} onChange={() => onMove(true)} /> Move them
        </label>
      </fieldset>
    </section>
  );
}

/** The validator's words on a map it refused, or the error as it came. */
export function mapProblems(error: unknown): string {
  if (error instanceof ApiError && error.status === 422 && error.problem?.errors?.length) {
    return error.problem.errors.map((e) => `${e.path.replace(/^map\./, "")}: ${e.message}${e.hint ? ` (${e.hint})` : ""}`).join("; ");
  }
  return describe(error);
}

/** Both parts of the look ahead, as the dialog shows them. */
export function PublishPreview({
  workflowKey,
  draft,
  live,
  move,
  onMove,
  map,
  onMap,
  targets,
}: {
  workflowKey: string;
  draft: boolean;
  live: boolean;
  move: boolean;
  onMove: (move: boolean) => void;
  map?: StepMap;
  onMap?: (map: StepMap) => void;
  /** The new version's steps that can take waiting contacts (its waits and approvals). */
  targets?: string[];
}) {
  return (
    <>
      <OnYourContacts workflowKey={workflowKey} draft={draft} />
      {live && draft && (
        <WaitingMove
          workflowKey={workflowKey}
          move={move}
          onMove={onMove}
          {...(map ? { map } : {})}
          {...(onMap ? { onMap } : {})}
          {...(targets ? { targets } : {})}
        />
      )}
    </>
  );
}

export default PublishPreview;
