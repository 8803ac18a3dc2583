// Every workflow in the workspace, with where it stands and how it is doing; a row opens its canvas.
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useLocation } from "wouter";
import { api, unwrap } from "../api/client";
import { describe } from "../api/problem";
import type { components } from "../api/schema";
import { changesWorkflows, useRole } from "./common/parts";
import { FIGURES_PERIOD, PERIOD_LABEL, figureCells, nobodyEntered } from "./workflowFigures";

export type WorkflowRow = components["schemas"]["WorkflowListed"];

export function StatusPill({ status }: { status: string }) {
  return <span className={`pill pill--${status}`}>{status}</span>;
}

export function WorkflowsTable({ rows }: { rows: WorkflowRow[] }) {
  if (rows.length === 0) {
    return (
      <div className="empty">
        <div className="empty__badge" aria-hidden="true">+</div>
        <h2 className="empty__title">No workflows yet</h2>
        <p className="empty__text">
          Start one above from an empty canvas, or write a workflow file (see <code>examples/workflows</code>) and deploy it:
        </p>
        <p className="empty__text">
          <code>tidings workflows deploy examples/workflows</code>
        </p>
      </div>
    );
  }
  const withFigures = rows.some((row) => row.figures);
  return (
    <>
      {withFigures && (
        <p className="muted small">
          Entries and conversions of the last {PERIOD_LABEL}; in a journey: active or waiting now.
        </p>
      )}
      <table className="table table--dense">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Key</th>
            <th scope="col">Status</th>
            <th scope="col" className="num">Version</th>
            {withFigures && (
              <>
                <th scope="col" className="num" title="Journeys active or waiting now">
                  In journey
                </th>
                <th scope="col" className="num">Entered</th>
                <th scope="col" className="num">Converted</th>
                <th scope="col" className="num" title={`Of those who entered in the last ${PERIOD_LABEL}, the share that converted`}>
                  Conversion
                </th>
                <th scope="col">Last entry</th>
              </>
            )}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => {
            const cells = figureCells(row.figures);
            return (
              <tr key={row.key} data-workflow={row.key}>
                <td>
                  <Link className="table__link" href={`/workflows/${encodeURIComponent(row.key)}`}>
                    {row.name}
                  </Link>
                </td>
                <td>
                  <code>{row.key}</code>
                </td>
                <td>
                  <StatusPill status={row.status} />
                </td>
                <td className="num">v{row.version}</td>
                {withFigures && (
                  <>
                    <td className="num" data-figure="in_journey">{cells.inJourney}</td>
                    <td className="num" data-figure="entered">{cells.entered}</td>
                    <td className="num" data-figure="converted">{cells.converted}</td>
                    <td className="num" data-figure="conversion">{cells.conversion}</td>
                    <td data-figure="last_entry">{cells.lastEntry}</td>
                  </>
                )}
              </tr>
            );
          })}
        </tbody>
      </table>
      {nobodyEntered(rows) && (
        <p className="muted small">
          Nobody entered a workflow in the last {PERIOD_LABEL}. A journey starts when a contact sends the workflow's
          trigger event (<code>POST /v1/track</code> with a write key) or fills in its form: open a workflow to see its
          trigger.
        </p>
      )}
    </>
  );
}

const KEY = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** Start a workflow from an empty canvas: its key first, the rest in the builder. */
export function NewWorkflow() {
  const [, navigate] = useLocation();
  const [key, setKey] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  return (
    <form
      className="new-workflow"
      onSubmit={(event) => {
        event.preventDefault();
        const wanted = key.trim();
        if (!KEY.test(wanted)) {
          setProblem("Key: use lowercase letters, digits, _ and -, starting with a letter or digit.");
          return;
        }
        navigate(`/workflows/${encodeURIComponent(wanted)}/edit`);
      }}
    >
      <label className="field__label" htmlFor="new-workflow-key">
        New workflow key
      </label>
      <input
        id="new-workflow-key"
        className="input"
        placeholder="e.g. cart_recovery"
        value={key}
        onChange={(e) => setKey(e.target.value)}
        aria-invalid={problem ? true : undefined}
      />
      <button type="submit" className="button button--primary">
        New workflow
      </button>
      {problem && (
        <p className="form__problem" role="alert">
          {problem}
        </p>
      )}
    </form>
  );
}

export function WorkflowsPage() {
  const role = useRole();
  const workflows = useQuery({
    queryKey: ["workflows", FIGURES_PERIOD],
    queryFn: () => unwrap(api.GET("/api/workflows", { params: { query: { figures: FIGURES_PERIOD } } })),
  });
  return (
    <section className="page">
      <header className="page__header">
        <h1 className="page__title">Workflows</h1>
        {workflows.data && <span className="page__count">{workflows.data.length}</span>}
      </header>
      {changesWorkflows(role) ? (
        <NewWorkflow />
      ) : (
        <p className="muted small new-workflow">You can read workflows and their figures; editors and owners make and change them.</p>
      )}
      {workflows.isPending && <p className="muted">Loading workflows…</p>}
      {workflows.isError && (
        <p className="alert alert--error" role="alert">
          {describe(workflows.error)}
        </p>
      )}
      {workflows.data && <WorkflowsTable rows={workflows.data} />}
    </section>
  );
}
