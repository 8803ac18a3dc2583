// One workflow: its current version drawn on the canvas.
import { useQuery } from "@tanstack/react-query";
import { Link } from "wouter";
import { api, unwrap } from "../api/client";
import { describe } from "../api/problem";
import "../styles/builder.css";
import { FlowCanvas } from "../canvas/FlowCanvas";
import type { Spec } from "../canvas/graph";
import { StatusActions, VersionDiff } from "./WorkflowVersions";
import { StatusPill } from "./WorkflowsPage";

export function WorkflowPage({ workflowKey }: { workflowKey: string }) {
  const workflow = useQuery({
    queryKey: ["workflow", workflowKey],
    queryFn: () => unwrap(api.GET("/api/workflows/{key}", { params: { path: { key: workflowKey } } })),
  });
  const current = workflow.data?.versions.find((v) => v.version === workflow.data?.version);
  const version = workflow.data?.version;
  // Live figures for the version on the canvas, refreshed while the page is open.
  const stats = useQuery({
    queryKey: ["workflow-stats", workflowKey, version],
    enabled: version !== undefined,
    refetchInterval: 30_000,
    queryFn: () =>
      unwrap(api.GET("/api/workflows/{key}/stats", { params: { path: { key: workflowKey }, query: { version } } })),
  });
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
              <StatusActions workflowKey={workflowKey} status={workflow.data.status} />
              <Link className="button button--primary" href={`/workflows/${encodeURIComponent(workflowKey)}/edit`}>
                Edit
              </Link>
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
        <VersionDiff workflowKey={workflowKey} versions={workflow.data.versions.map((v) => v.version)} />
      )}
      {current && <FlowCanvas spec={current.spec as Spec} figures={stats.data} workflowKey={workflowKey} />}
    </section>
  );
}
