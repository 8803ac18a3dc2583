// The console: the login until there is a session, then the shell and its pages.
import { lazy, Suspense } from "react";
import { Redirect, Route, Switch } from "wouter";
import { describe } from "./api/problem";
import { ComingNext } from "./pages/ComingNext";
import { LoginPage } from "./pages/LoginPage";
import { WorkflowsPage } from "./pages/WorkflowsPage";
import { useSession } from "./session/useSession";
import { Shell } from "./shell/Shell";

// The canvas (React Flow, dagre) loads when a workflow is opened, not with the login.
const WorkflowPage = lazy(() => import("./pages/WorkflowPage").then((m) => ({ default: m.WorkflowPage })));
const WorkflowBuilderPage = lazy(() =>
  import("./pages/WorkflowBuilderPage").then((m) => ({ default: m.WorkflowBuilderPage })),
);

export function App() {
  const session = useSession();
  if (session.isPending) return <p className="splash muted">Loading…</p>;
  if (session.isError) {
    return (
      <p className="splash alert alert--error" role="alert">
        {describe(session.error)}
      </p>
    );
  }
  if (session.data === null) return <LoginPage />;
  return (
    <Shell session={session.data}>
      <Switch>
        <Route path="/workflows" component={WorkflowsPage} />
        <Route path="/workflows/:key/edit">{(params) => (
            <Suspense fallback={<p className="page muted">Loading the builder…</p>}>
              <WorkflowBuilderPage workflowKey={decodeURIComponent(params.key)} />
            </Suspense>
          )}</Route>
        <Route path="/workflows/:key">{(params) => (
            <Suspense fallback={<p className="page muted">Loading the canvas…</p>}>
              <WorkflowPage workflowKey={decodeURIComponent(params.key)} />
            </Suspense>
          )}</Route>
        <Route path="/contacts">
          <ComingNext
            title="Contacts"
            what="Search contacts, see their profile and the why-timeline of every journey."
            meanwhile="tidings contacts why CONTACT_ID"
          />
        </Route>
        <Route path="/segments">
          <ComingNext title="Segments" what="Build segments with live counts." meanwhile="tidings segment --help" />
        </Route>
        <Route path="/approvals">
          <ComingNext
            title="Approvals"
            what="The inbox of journeys waiting for a person's yes or no."
            meanwhile="GET /api/approvals"
          />
        </Route>
        <Route path="/reports">
          <ComingNext
            title="Reports"
            what="Per-workflow and per-step figures, experiments and holdout lift, with charts."
            meanwhile="tidings report"
          />
        </Route>
        <Route path="/settings">
          <ComingNext
            title="Settings"
            what="People, roles, API keys and delivery settings."
            meanwhile="tidings users list"
          />
        </Route>
        <Route path="/">
          <Redirect to="/workflows" />
        </Route>
        <Route>
          <ComingNext title="Not found" what="There is no page at this address." meanwhile="open Workflows on the left" />
        </Route>
      </Switch>
    </Shell>
  );
}
