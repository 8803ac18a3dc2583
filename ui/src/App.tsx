// The console: the login until there is a session, then the shell and its pages.
import { lazy, Suspense } from "react";
import { Redirect, Route, Switch } from "wouter";
import { describe } from "./api/problem";
import { ComingNext } from "./pages/ComingNext";
import { LoginPage } from "./pages/LoginPage";
import { WorkflowsPage } from "./pages/WorkflowsPage";
import { useSession } from "./session/useSession";
import { Shell } from "./shell/Shell";

// Each area loads when it is first opened, not with the login: the canvas (React Flow,
// dagre) and the YAML editors are most of the console's weight.
const ApprovalsPage = lazy(() => import("./pages/approvals/ApprovalsPage").then((m) => ({ default: m.ApprovalsPage })));
const ContactPage = lazy(() => import("./pages/contacts/ContactPage").then((m) => ({ default: m.ContactPage })));
const ContactsPage = lazy(() => import("./pages/contacts/ContactsPage").then((m) => ({ default: m.ContactsPage })));
const FormPage = lazy(() => import("./pages/forms/FormsPage").then((m) => ({ default: m.FormPage })));
const FormsPage = lazy(() => import("./pages/forms/FormsPage").then((m) => ({ default: m.FormsPage })));
const NewFormPage = lazy(() => import("./pages/forms/FormsPage").then((m) => ({ default: m.NewFormPage })));
const ReportsPage = lazy(() => import("./pages/reports/ReportsPage").then((m) => ({ default: m.ReportsPage })));
const SegmentsPage = lazy(() => import("./pages/segments/SegmentsPage").then((m) => ({ default: m.SegmentsPage })));
const SettingsPage = lazy(() => import("./pages/settings/SettingsPage").then((m) => ({ default: m.SettingsPage })));
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
      <Suspense fallback={<p className="page muted">Loading…</p>}>
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
      </Suspense>
    </Shell>
  );
}
