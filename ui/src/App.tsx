// The console: the login until there is a session, then the shell and its pages.
import { lazy, Suspense } from "react";
import { Redirect, Route, Switch } from "wouter";
import { describe } from "./api/problem";
import { ComingNext } from "./pages/ComingNext";
import { LoginPage } from "./pages/LoginPage";
import { WorkflowsPage } from "./pages/WorkflowsPage";
import { ApprovalsPage } from "./pages/approvals/ApprovalsPage";
import { ContactPage } from "./pages/contacts/ContactPage";
import { ContactsPage } from "./pages/contacts/ContactsPage";
import { FormPage, FormsPage, NewFormPage } from "./pages/forms/FormsPage";
import { ReportsPage } from "./pages/reports/ReportsPage";
import { SegmentsPage } from "./pages/segments/SegmentsPage";
import { SettingsPage } from "./pages/settings/SettingsPage";
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
        <Route path="/contacts" component={ContactsPage} />
        <Route path="/contacts/:id">{(params) => <ContactPage key={params.id} id={Number(params.id)} />}</Route>
        <Route path="/segments" component={SegmentsPage} />
        <Route path="/forms" component={FormsPage} />
        <Route path="/forms/new" component={NewFormPage} />
        <Route path="/forms/:key">{(params) => <FormPage key={params.key} formKey={decodeURIComponent(params.key)} />}</Route>
        <Route path="/approvals" component={ApprovalsPage} />
        <Route path="/reports">{() => <ReportsPage tab="workflows" />}</Route>
        <Route path="/reports/:tab">{(params) => <ReportsPage tab={params.tab} />}</Route>
        <Route path="/settings">{() => <SettingsPage tab="delivery" />}</Route>
        <Route path="/settings/:tab">{(params) => <SettingsPage tab={params.tab} />}</Route>
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
