// One workflow: its current version drawn on the canvas, with live figures for a chosen
// version and period.
import { useQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link } from "wouter";
import { api, unwrap } from "../api/client";
import { describe } from "../api/problem";
import "../styles/builder.css";
import { FlowCanvas } from "../canvas/FlowCanvas";
import { figuresCaption, figuresQuery, periodProblem, type FiguresChoice } from "../canvas/figuresQuery";
import type { Spec } from "../canvas/graph";
import { changesWorkflows, useRole } from "./common/parts";
import { StatusActions, VersionDiff } from "./WorkflowVersions";
import { StatusPill } from "./WorkflowsPage";

function FiguresBar({
  versions,
  choice,
  onChange,
}: {
  versions: number[];
  choice: FiguresChoice;
  onChange: (choice: FiguresChoice) => void;
}) {
  const [draft, setDraft] = useState({ since: choice.since, until: choice.until });
  const problem = periodProblem(draft.since, draft.until);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!problem) onChange({ ...choice, ...draft });
  };
  const open = choice.since !== "" || choice.until !== "";
  return (
    <div className="figures-bar">
      <form className="period" onSubmit={submit} aria-label="Figures of the canvas">
        <label>
          <span className="field__label">Version</span>
          <select
            className="select input--small"
            aria-label="Version"
            value={String(choice.version)}
            onChange={(e) => onChange({ ...choice, version: e.target.value === "all" ? "all" : Number(e.target.value) })}
          >
            {[...versions].reverse().map((v) => (
              <option key={v} value={v}>
                version {v}
              </option>
            ))}
            <option value="all">all versions</option>
          </select>
        </label>
        <label>
          <span className="field__label">From</span>
          <input
            className="input input--small"
            type="date"
            value={draft.since}
            aria-invalid={problem ? true : undefined}
            onChange={(e) => setDraft({ ...draft, since: e.target.value })}
          />
        </label>
        <label>
          <span className="field__label">To</span>
          <input
            className="input input--small"
            type="date"
            value={draft.until}
            aria-invalid={problem ? true : undefined}
            onChange={(e) => setDraft({ ...draft, until: e.target.value })}
          />
        </label>
        <button type="submit" className="button" disabled={problem !== null}>
          Apply
        </button>
        {open && (
          <button
            type="button"
            className="button button--ghost"
            onClick={() => {
              setDraft({ since: "", until: "" });
              onChange({ ...choice, since: "", until: "" });
            }}
          >
            All time
          </button>
        )}
      </form>
      {problem ? (
        <p className="form__problem" role="alert">
          {problem}
        </p>
      ) : (
        <p className="muted small" data-testid="figures-caption">
          {figuresCaption(choice)}
          {choice.version === "all" ? " Drawn: the current version." : ""} Click a step to see who is there now.
        </p>
      )}
    </div>
  );
}

export function WorkflowPage({ workflowKey }: { workflowKey: string }) {
  const role = useRole();
  const workflow = useQuery({
    queryKey: ["workflow", workflowKey],
    queryFn: () => unwrap(api.GET("/api/workflows/{key}", { params: { path: { key: workflowKey } } })),
  });
  const current = workflow.data?.versions.find((v) => v.version === workflow.data?.version);
  // The figures follow the current version until a person picks another (or all of them).
  const [picked, setPicked] = useState<FiguresChoice | null>(null);
  const choice: FiguresChoice = picked ?? { version: workflow.data?.version ?? 1, since: "", until: "" };
  // Live figures for the chosen version and period, refreshed while the page is open.
  const stats = useQuery({
    queryKey: ["workflow-stats", workflowKey, choice],
    enabled: workflow.data !== undefined,
    refetchInterval: 30_000,
    queryFn: () =>
      unwrap(api.GET("/api/workflows/{key}/stats", { params: { path: { key: workflowKey }, query: figuresQuery(choice) } })),
  });
  const versions = workflow.data?.versions.map((v) => v.version) ?? [];
  // The canvas draws the version whose figures it shows (the current one for all versions).
  const drawn = (choice.version === "all" ? undefined : workflow.data?.versions.find((v) => v.version === choice.version)) ?? current;
  return (
    <section className="page page--full">
      <header className="page__header">
        <nav className="crumbs" aria-label="Breadcrumb">
          <Link href="/workflows">Workflows</Link>
          <span aria-hidden="true">/</span>
        </nav>
        <h1 className="page__title">{workflow.data?.name ?? workflowKey}</h1>
        {workflow.data && (
          <>
            <StatusPill status={workflow.data.status} />
            <span className="muted">version {workflow.data.version}</span>
            <span className="page__action">
              {changesWorkflows(role) ? (
                <>
                  <StatusActions workflowKey={workflowKey} status={workflow.data.status} />
                  <Link className="button button--primary" href={`/workflows/${encodeURIComponent(workflowKey)}/edit`}>
                    Edit
                  </Link>
                </>
              ) : (
                <span className="muted small" data-testid="read-only">
                  Read only: {role === "approver" ? "approvers" : "viewers"} see workflows; editors and owners change them.
                </span>
              )}
            </span>
          </>
        )}
      </header>
      {workflow.isPending && <p className="muted">Loading the workflow…</p>}
      {workflow.isError && (
        <p className="alert alert--error" role="alert">
          {describe(workflow.error)}
        </p>
      )}
      {workflow.data && !current && <p className="alert alert--error">This workflow has no stored version.</p>}
      {workflow.data && workflow.data.versions.length > 0 && (
        <VersionDiff workflowKey={workflowKey} versions={versions} />
      )}
      {workflow.data && current && <FiguresBar versions={versions} choice={choice} onChange={setPicked} />}
      {stats.isError && (
        <p className="alert alert--error" role="alert">
          The figures could not be loaded: {describe(stats.error)}
        </p>
      )}
      {drawn && <FlowCanvas key={drawn.version} spec={drawn.spec as Spec} figures={stats.data} workflowKey={workflowKey} />}
    </section>
  );
}
