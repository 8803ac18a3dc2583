// Reports: what `tidings report` prints, as pages: workflows, step funnels, experiments,
// holdout lift, attribution models side by side, customer value, and the audit's findings.
import { useQuery } from "@tanstack/react-query";
import { useState, type FormEvent, type ReactNode } from "react";
import { Link } from "wouter";
import { api, unwrap } from "../../api/client";
import { count, duration, money, moment, percent, points, rate, ratePercent, signedMoney } from "../common/format";
import { Empty, Failure, Loading, PageHeader, Tabs } from "../common/parts";
import { findingWorkflow, MODEL_LABELS, type Comparison, type Report, type WorkflowFigures } from "./types";

export const REPORT_TABS = [
  { key: "workflows", label: "Workflows" },
  { key: "funnels", label: "Funnels" },
  { key: "experiments", label: "Experiments" },
  { key: "lift", label: "Holdout lift" },
  { key: "attribution", label: "Attribution" },
  { key: "value", label: "Customer value" },
  { key: "audit", label: "Audit" },
] as const;

export type ReportTab = (typeof REPORT_TABS)[number]["key"];

/** A horizontal bar for a share (0..1), drawn in SVG: no inline styles under the CSP. */
export function Bar({ share, tone = "accent" }: { share: number | null; tone?: "accent" | "ok" | "warn" }) {
  const width = share === null ? 0 : Math.max(0, Math.min(1, share)) * 100;
  return (
    <svg className={`bar bar--${tone}`} viewBox="0 0 100 8" preserveAspectRatio="none" aria-hidden="true">
      <rect className="bar__track" x="0" y="0" width="100" height="8" rx="2" />
      <rect className="bar__fill" x="0" y="0" width={width} height="8" rx="2" />
    </svg>
  );
}

function NoData({ title, children }: { title: string; children: ReactNode }) {
  return (
    <Empty badge="∅" title={title}>
      <p className="empty__text">{children}</p>
    </Empty>
  );
}

function WorkflowLink({ workflowKey }: { workflowKey: string }) {
  return (
    <Link className="table__link" href={`/workflows/${encodeURIComponent(workflowKey)}`}>
      {workflowKey}
    </Link>
  );
}

export function WorkflowsReport({ rows }: { rows: WorkflowFigures[] }) {
  if (rows.length === 0) {
    return <NoData title="No workflow has run in this period">Deploy a workflow and send events, or widen the period.</NoData>;
  }
  return (
    <table className="table">
      <thead>
        <tr>
          <th scope="col">Workflow</th>
          <th scope="col" className="num">Entered</th>
          <th scope="col" className="num">Sent</th>
          <th scope="col" className="num" title="opened ÷ delivered">Opened</th>
          <th scope="col" className="num" title="clicked ÷ delivered">Clicked</th>
          <th scope="col" className="num" title="converted ÷ entered">Converted</th>
          <th scope="col" className="num">Revenue</th>
          <th scope="col" className="num">Unsubscribed</th>
          <th scope="col" className="num">Waiting</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((w) => (
          <tr key={w.key}>
            <td>
              <WorkflowLink workflowKey={w.key} /> <span className="muted">v{w.version}</span>
              <div className="muted small">{w.name}</div>
            </td>
            <td className="num">{count(w.entered)}</td>
            <td className="num">{count(w.sent)}</td>
            <td className="num">{ratePercent(w.opened, w.delivered)}</td>
            <td className="num">{ratePercent(w.clicked, w.delivered)}</td>
            <td className="num">{w.has_goal ? ratePercent(w.converted, w.entered) : <span className="muted">no goal</span>}</td>
            <td className="num">{money(w.revenue)}</td>
            <td className="num">{count(w.unsubscribed)}</td>
            <td className="num">{count(w.waiting)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function Funnel({ workflow }: { workflow: WorkflowFigures }) {
  const top = Math.max(workflow.entered, 1);
  return (
    <section className="card card--wide" aria-label={`Funnel of ${workflow.key}`}>
      <header className="card__header">
        <h2 className="card__title">
          <WorkflowLink workflowKey={workflow.key} /> <span className="muted">v{workflow.version}</span>
        </h2>
        <span className="muted">
          {count(workflow.entered)} entered · {workflow.has_goal ? `${ratePercent(workflow.converted, workflow.entered)} converted` : "no goal"}
        </span>
      </header>
      {workflow.entered === 0 ? (
        // Bars of nothing say nothing: say why there is no funnel instead.
        <p className="muted funnel__empty">No one entered this workflow in the period, so there is no funnel to draw yet.</p>
      ) : (
      <table className="table table--flat">
        <thead>
          <tr>
            <th scope="col">Step</th>
            <th scope="col" className="funnel__bar">Reached</th>
            <th scope="col" className="num">Entered</th>
            <th scope="col" className="num">Sent</th>
            <th scope="col" className="num" title="opened ÷ delivered">Opened</th>
            <th scope="col" className="num" title="clicked ÷ delivered">Clicked</th>
            <th scope="col" className="num">Waiting</th>
            <th scope="col" className="num" title="arrivals that went no further">Drop-off</th>
          </tr>
        </thead>
        <tbody>
          {workflow.steps.map((s) => (
            <tr key={s.step_id}>
              <td>
                <code>{s.step_id}</code> <span className="muted small">{s.kind}</span>
              </td>
              <td className="funnel__bar">
                <Bar share={rate(s.entered, top)} />
              </td>
              <td className="num">{count(s.entered)}</td>
              <td className="num">{s.kind === "send" ? count(s.sent) : "—"}</td>
              <td className="num">{s.kind === "send" ? ratePercent(s.opened, s.delivered) : "—"}</td>
              <td className="num">{s.kind === "send" ? ratePercent(s.clicked, s.delivered) : "—"}</td>
              <td className="num">{count(s.waiting)}</td>
              <td className="num">{percent(s.drop_off)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      )}
    </section>
  );
}

/** A difference and its 95% interval: percentage points for rates, money for revenue. */
export function Interval({ comparison, metric = "rate" }: { comparison: Comparison | null; metric?: string }) {
  if (!comparison) return <span className="muted">too few to compare</span>;
  const show = metric.includes("revenue") ? signedMoney : points;
  return (
    <span>
      {show(comparison.difference)}{" "}
      <span className="muted">
        [{show(comparison.low)}, {show(comparison.high)}] · p={comparison.p_value.toFixed(3)}
      </span>
    </span>
  );
}

function Experiments({ report }: { report: Report }) {
  if (report.experiments.length === 0) {
    return (
      <NoData title="No experiment yet">
        Give a send step <code>variants</code>, or add a <code>split</code> step, and results appear here.
      </NoData>
    );
  }
  return (
    <div className="stack">
      {report.experiments.map((x) => (
        <section key={`${x.workflow}-${x.step}`} className="card card--wide">
          <header className="card__header">
            <h2 className="card__title">
              <WorkflowLink workflowKey={x.workflow} /> › <code>{x.step}</code>
            </h2>
            <span className="muted">
              {x.kind} · judged on {x.metric.replaceAll("_", " ")}
            </span>
          </header>
          <p className={`verdict-line${x.winner ? " verdict-line--won" : ""}`}>{x.conclusion}</p>
          <table className="table table--flat">
            <thead>
              <tr>
                <th scope="col">Arm</th>
                <th scope="col" className="num">Contacts</th>
                <th scope="col" className="num">Click rate</th>
                <th scope="col" className="num">Conversion rate</th>
                <th scope="col" className="num">Revenue / contact</th>
                <th scope="col" className="num">Chance best</th>
              </tr>
            </thead>
            <tbody>
              {x.arms.map((arm) => (
                <tr key={arm.name}>
                  <td>
                    {arm.name} {x.winner === arm.name && <span className="pill pill--active">winner</span>}
                  </td>
                  <td className="num">{count(arm.assigned)}</td>
                  <td className="num">{x.kind === "variants" ? ratePercent(arm.clicked, arm.assigned) : "—"}</td>
                  <td className="num">{ratePercent(arm.converted, arm.assigned)}</td>
                  <td className="num">{arm.revenue_per_contact === null ? "—" : money(arm.revenue_per_contact)}</td>
                  <td className="num">{percent(arm.probability_best)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {x.comparisons.length > 0 && (
            <ul className="plain-list">
              {x.comparisons.map((c) => (
                <li key={`${c.arm}-${c.metric}`}>
                  <strong>{c.arm}</strong> vs control on {c.metric.replaceAll("_", " ")}: <Interval comparison={c.comparison} metric={c.metric} /> —{" "}
                  {c.said}
                </li>
              ))}
            </ul>
          )}
        </section>
      ))}
    </div>
  );
}

function Lift({ report }: { report: Report }) {
  if (report.lifts.length === 0) {
    return (
      <NoData title="No holdout group yet">
        A <code>split</code> step with a <code>holdout</code> path keeps some contacts from the messages, so the true lift can be measured.
      </NoData>
    );
  }
  return (
    <table className="table">
      <thead>
        <tr>
          <th scope="col">Workflow › split</th>
          <th scope="col" className="num">Holdout</th>
          <th scope="col" className="num">Treated</th>
          <th scope="col">Conversion lift (95% interval)</th>
          <th scope="col" className="num">Incremental conversions</th>
          <th scope="col" className="num">Attributed revenue</th>
          <th scope="col">Conclusion</th>
        </tr>
      </thead>
      <tbody>
        {report.lifts.map((l) => (
          <tr key={`${l.workflow}-${l.step}`}>
            <td>
              <WorkflowLink workflowKey={l.workflow} /> › <code>{l.step}</code>
            </td>
            <td className="num">{count(l.holdout)}</td>
            <td className="num">{count(l.treated)}</td>
            <td>
              <Interval comparison={l.conversion} />
            </td>
            <td className="num">
              {l.incremental_conversions
                ? `${l.incremental_conversions[0].toFixed(1)} [${l.incremental_conversions[1].toFixed(1)}, ${l.incremental_conversions[2].toFixed(1)}]`
                : "—"}
            </td>
            <td className="num">{money(l.attributed_revenue)}</td>
            <td>{l.conclusion}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Attribution({ report }: { report: Report }) {
  const a = report.attribution;
  if (a.conversions === 0) {
    return (
      <NoData title="No conversion in this period">
        Conversions are credited to the messages before them (within {duration(a.window)}) once a workflow's goal is met.
      </NoData>
    );
  }
  const table = (rows: typeof a.workflows, withStep: boolean) => (
    <table className="table table--flat">
      <thead>
        <tr>
          <th scope="col">{withStep ? "Workflow › step" : "Workflow"}</th>
          {a.models.map((m) => (
            <th key={m} scope="col" className="num">
              {MODEL_LABELS[m] ?? m}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={`${r.workflow}-${r.step ?? ""}`}>
            <td>
              <WorkflowLink workflowKey={r.workflow} />
              {withStep && r.step ? (
                <>
                  {" "}
                  › <code>{r.step}</code>
                </>
              ) : null}
            </td>
            {a.models.map((m) => (
              <td key={m} className="num">
                {count(r.credits[m]?.conversions ?? 0)}
                <div className="muted small">{money(r.credits[m]?.revenue ?? 0)}</div>
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
  return (
    <div className="stack">
      <p className="muted">
        {count(a.conversions)} conversions ({money(a.revenue)}) within a {duration(a.window)} window; time decay halves every{" "}
        {duration(a.half_life)}. {count(a.untouched)} conversions ({money(a.untouched_revenue)}) had no message before them.
      </p>
      <section className="card card--wide">
        <h2 className="card__title">By workflow</h2>
        {table(a.workflows, false)}
      </section>
      <section className="card card--wide">
        <h2 className="card__title">By message step</h2>
        {table(a.steps, true)}
      </section>
    </div>
  );
}

function Value({ report }: { report: Report }) {
  const v = report.value;
  const rows = [v.overall, ...v.by_source, ...v.by_segment];
  const hours = Object.entries(v.hours_to_convert);
  return (
    <div className="stack">
      <section className="card card--wide">
        <h2 className="card__title">Value per contact</h2>
        <table className="table table--flat">
          <thead>
            <tr>
              <th scope="col">Group</th>
              <th scope="col" className="num">Contacts</th>
              <th scope="col" className="num">Buyers</th>
              <th scope="col" className="num">Mean</th>
              <th scope="col" className="num">Median</th>
              <th scope="col" className="num">90th pct</th>
              <th scope="col" className="num">Total</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((s, i) => (
              <tr key={`${s.group}-${i}`}>
                <td>{s.group}</td>
                <td className="num">{count(s.contacts)}</td>
                <td className="num">
                  {count(s.buyers)} <span className="muted small">{ratePercent(s.buyers, s.contacts)}</span>
                </td>
                <td className="num">{money(s.value.mean)}</td>
                <td className="num">{money(s.value.median)}</td>
                <td className="num">{money(s.value.p90)}</td>
                <td className="num">{money(s.value.total)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section className="card card--wide">
        <h2 className="card__title">Time to convert</h2>
        {hours.length === 0 ? (
          <p className="muted card__empty">No conversion yet.</p>
        ) : (
          <table className="table table--flat">
            <thead>
              <tr>
                <th scope="col">Workflow</th>
                <th scope="col" className="num">Conversions</th>
                <th scope="col" className="num">Median</th>
                <th scope="col" className="num">75th pct</th>
                <th scope="col" className="num">90th pct</th>
              </tr>
            </thead>
            <tbody>
              {hours.map(([key, d]) => (
                <tr key={key}>
                  <td>
                    <WorkflowLink workflowKey={key} />
                  </td>
                  <td className="num">{count(d.count)}</td>
                  <td className="num">{duration(d.median * 3600)}</td>
                  <td className="num">{duration(d.p75 * 3600)}</td>
                  <td className="num">{duration(d.p90 * 3600)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </div>
  );
}

function Audit({ report }: { report: Report }) {
  if (report.findings.length === 0) {
    return <NoData title="Nothing to fix">The audit found no weak, decaying or crowded workflow, and no alert overload.</NoData>;
  }
  return (
    <ul className="findings">
      {report.findings.map((f, i) => {
        const workflow = findingWorkflow(f, report.workflows);
        return (
          <li key={`${f.kind}-${f.subject}-${i}`} className="card finding">
            <span className={`pill pill--finding-${f.kind}`}>{f.kind.replaceAll("_", " ")}</span>
            <div>
              <p className="finding__summary">
                {workflow ? (
                  <>
                    <WorkflowLink workflowKey={workflow} />
                    {f.subject.slice(workflow.length) && <strong>{f.subject.slice(workflow.length)}</strong>}
                  </>
                ) : (
                  <strong>{f.subject}</strong>
                )}
                : {f.summary}
              </p>
              <p className="muted finding__advice">{f.advice}</p>
            </div>
          </li>
        );
      })}
    </ul>
  );
}

export function ReportBody({ tab, report }: { tab: ReportTab; report: Report }) {
  switch (tab) {
    case "workflows":
      return <WorkflowsReport rows={report.workflows} />;
    case "funnels":
      return report.workflows.length === 0 ? (
        <NoData title="No workflow has run in this period">Deploy a workflow and send events, or widen the period.</NoData>
      ) : (
        <div className="stack">
          {report.workflows.map((w) => (
            <Funnel key={w.key} workflow={w} />
          ))}
        </div>
      );
    case "experiments":
      return <Experiments report={report} />;
    case "lift":
      return <Lift report={report} />;
    case "attribution":
      return <Attribution report={report} />;
    case "value":
      return <Value report={report} />;
    case "audit":
      return <Audit report={report} />;
  }
}

export function ReportsPage({ tab }: { tab: string }) {
  const active: ReportTab = REPORT_TABS.some((t) => t.key === tab) ? (tab as ReportTab) : "workflows";
  const [period, setPeriod] = useState({ since: "", until: "" });
  const [draft, setDraft] = useState(period);
  const report = useQuery({
    queryKey: ["report", period],
    queryFn: async () =>
      (await unwrap(
        api.GET("/api/reports", {
          params: { query: { since: period.since || undefined, until: period.until || undefined } },
        }),
      )) as unknown as Report,
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setPeriod(draft);
  };
  return (
    <section className="page">
      <PageHeader title="Reports">
        <form className="period" onSubmit={submit} aria-label="Period">
          <label>
            <span className="field__label">From</span>
            <input className="input input--small" type="date" value={draft.since} onChange={(e) => setDraft({ ...draft, since: e.target.value })} />
          </label>
          <label>
            <span className="field__label">To</span>
            <input className="input input--small" type="date" value={draft.until} onChange={(e) => setDraft({ ...draft, until: e.target.value })} />
          </label>
          <button type="submit" className="button">
            Apply
          </button>
        </form>
      </PageHeader>
      <Tabs tabs={REPORT_TABS} active={active} base="/reports" />
      {report.isPending && <Loading what="the report" />}
      {report.isError && <Failure error={report.error} />}
      {report.data && (
        <>
          <p className="muted small report__when">Computed {moment(report.data.generated_at)}</p>
          <ReportBody tab={active} report={report.data} />
        </>
      )}
    </section>
  );
}
