// Forms: every form with its figures; a form's questions, consent wording, link and embed
// snippet, figures by page and by source, and its definition as text (editors save it).
import { useMutation, useQueries, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useLocation } from "wouter";
import { api, unwrap } from "../../api/client";
import type { components } from "../../api/schema";
import { count, moment, percent } from "../common/format";
import { Empty, Failure, Loading, PageHeader, useRole } from "../common/parts";
import { conversion, definitionText, EXAMPLE_FORM, parseDefinition, problemLines } from "./definition";

type Form = components["schemas"]["FormOut"];
type FormSpec = components["schemas"]["FormSpec"];
type Row = components["schemas"]["FiguresRow"];

const figuresOf = (key: string, by: "page" | "source") => ({
  queryKey: ["form-figures", key, by],
  queryFn: () => unwrap(api.GET("/api/forms/{key}/figures", { params: { path: { key }, query: { by } } })),
});

function Figures({ row }: { row: Row | undefined }) {
  if (!row) {
    return (
      <td className="num muted" colSpan={4}>
        …
      </td>
    );
  }
  return (
    <>
      <td className="num">{count(row.views)}</td>
      <td className="num">{count(row.starts)}</td>
      <td className="num">{count(row.submissions)}</td>
      <td className="num">{percent(conversion(row))}</td>
    </>
  );
}

export function FormsPage() {
  const canEdit = ["editor", "owner"].includes(useRole());
  const forms = useQuery({ queryKey: ["forms"], queryFn: () => unwrap(api.GET("/api/forms")) });
  const totals = useQueries({ queries: (forms.data ?? []).map((f) => figuresOf(f.key, "source")) });
  return (
    <section className="page">
      <PageHeader title="Forms" count={forms.data?.length}>
        {canEdit && (
          <Link href="/forms/new" className="button button--primary">
            New form
          </Link>
        )}
      </PageHeader>
      {forms.isPending && <Loading what="forms" />}
      {forms.isError && <Failure error={forms.error} />}
      {forms.data && forms.data.length === 0 && (
        <Empty badge="+" title="No forms yet">
          <p className="empty__text">
            A form asks visitors for their details and consent, on its own page or embedded in your website. Press{" "}
            <strong>New form</strong> to start from an example, or deploy a definition with{" "}
            <code>tidings forms deploy examples/forms/contact.yaml</code>.
          </p>
        </Empty>
      )}
      {forms.data && forms.data.length > 0 && (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Form</th>
              <th scope="col" className="num">Version</th>
              <th scope="col" className="num">Views</th>
              <th scope="col" className="num">Starts</th>
              <th scope="col" className="num">Submissions</th>
              <th scope="col" className="num">Conversion</th>
            </tr>
          </thead>
          <tbody>
            {forms.data.map((f, i) => (
              <tr key={f.key}>
                <td>
                  <Link href={`/forms/${encodeURIComponent(f.key)}`} className="table__link">
                    {f.spec.name}
                  </Link>
                  <div className="muted small">
                    <code>{f.key}</code>
                  </div>
                </td>
                <td className="num">{f.version}</td>
                <Figures row={totals[i]?.data?.total} />
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function FiguresTable({ formKey, by, wide = false }: { formKey: string; by: "page" | "source"; wide?: boolean }) {
  const figures = useQuery(figuresOf(formKey, by));
  const label = by === "page" ? "Page" : "Source";
  return (
    <section className={wide ? "card card--wide" : "card"} aria-label={`By ${by}`}>
      <h2 className="card__title">By {by}</h2>
      {figures.isPending && <Loading what="figures" />}
      {figures.isError && <Failure error={figures.error} />}
      {figures.data && figures.data.rows.length === 0 && <p className="card__empty muted">No visits yet.</p>}
      {figures.data && figures.data.rows.length > 0 && (
        <table className="table table--flat">
          <thead>
            <tr>
              <th scope="col">{label}</th>
              <th scope="col" className="num">Views</th>
              <th scope="col" className="num">Starts</th>
              <th scope="col" className="num">Submissions</th>
              <th scope="col" className="num">Conversion</th>
            </tr>
          </thead>
          <tbody>
            {figures.data.rows.map((row) => {
              const name = (by === "page" ? row.page : row.source) ?? "";
              return (
                <tr key={name}>
                  <td>{name === "" ? <span className="muted">(none)</span> : name}</td>
                  <Figures row={row} />
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** The definition as text: editors save it (a new version), everyone else reads it. */
function Editor({ form, onSaved }: { form: Form | null; onSaved: (f: Form) => void }) {
  const client = useQueryClient();
  const canEdit = ["editor", "owner"].includes(useRole());
  const [text, setText] = useState(() => (form ? definitionText(form.spec) : EXAMPLE_FORM));
  const [local, setLocal] = useState<string | null>(null);
  // Saving is a PUT, which replaces: a new form must not take an existing one's key.
  const existing = useQuery({ queryKey: ["forms"], queryFn: () => unwrap(api.GET("/api/forms")), enabled: !form });
  const save = useMutation({
    mutationFn: (spec: Record<string, unknown>) => {
      const key = String(spec.key);
      return unwrap(api.PUT("/api/forms/{key}", { params: { path: { key } }, body: spec as unknown as FormSpec }));
    },
    onSuccess: (saved) => {
      void client.invalidateQueries({ queryKey: ["forms"] });
      client.setQueryData(["form", saved.key], saved);
      onSaved(saved);
    },
  });
  const submit = () => {
    const parsed = parseDefinition(text);
    if (!parsed.ok) {
      setLocal(parsed.error);
      return;
    }
    if (!form && (existing.data ?? []).some((f) => f.key === parsed.spec.key)) {
      setLocal(`A form with the key ${String(parsed.spec.key)} exists already: open it to change it, or choose another key.`);
      return;
    }
    setLocal(null);
    save.mutate(parsed.spec);
  };
  const problems = local ? [local] : save.isError ? problemLines(save.error) : [];
  return (
    <section className="card card--wide" aria-label="Definition">
      <div className="card__header">
        <h2 className="card__title">Definition</h2>
        {!canEdit && <span className="muted small">Read only: editors and owners change forms.</span>}
      </div>
      <textarea
        className="input textarea code-input"
        aria-label="Form definition (YAML or JSON)"
        rows={18}
        spellCheck={false}
        readOnly={!canEdit}
        value={text}
        onChange={(e) => setText(e.target.value)}
      />
      {problems.length > 0 && (
        <div className="alert alert--error" role="alert">
          <p>The form was not saved:</p>
          <ul>
            {problems.map((line) => (
              <li key={line}>{line}</li>
            ))}
          </ul>
        </div>
      )}
      {canEdit && (
        <div className="page__actions definition__actions">
          <button type="button" className="button button--primary" onClick={submit} disabled={save.isPending}>
            {form ? "Save new version" : "Create form"}
          </button>
        </div>
      )}
    </section>
  );
}

function CopyButton({ text }: { text: string }) {
  const [state, setState] = useState<"" | "copied" | "failed">("");
  const copy = () => {
    navigator.clipboard.writeText(text).then(
      () => setState("copied"),
      () => setState("failed"),
    );
  };
  return (
    <>
      <button type="button" className="button button--small" onClick={copy}>
        Copy
      </button>
      {state === "copied" && <span className="muted small" role="status">Copied.</span>}
      {state === "failed" && <span className="muted small" role="status">The browser refused: select the text and copy it.</span>}
    </>
  );
}

function Questions({ spec }: { spec: FormSpec }) {
  return (
    <section className="card" aria-label="Questions">
      <h2 className="card__title">Questions</h2>
      <table className="table table--flat">
        <thead>
          <tr>
            <th scope="col">Label</th>
            <th scope="col">Field</th>
            <th scope="col">Type</th>
          </tr>
        </thead>
        <tbody>
          {spec.fields.map((field) => (
            <tr key={field.key}>
              <td>
                {field.label}
                {field.required && <span className="muted small"> (required)</span>}
              </td>
              <td>
                <code>{field.key}</code>
              </td>
              <td>{field.type}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {spec.consents.length > 0 && (
        <>
          <h3 className="card__subtitle">Consent, worded as shown</h3>
          <ul className="plain-list">
            {spec.consents.map((consent) => (
              <li key={consent.key}>
                <span className="muted small">
                  {consent.channel}
                  {consent.topic ? ` · ${consent.topic}` : ""}
                  {consent.required ? " · required" : ""}:{" "}
                </span>
                {consent.wording}
              </li>
            ))}
          </ul>
        </>
      )}
      <h3 className="card__subtitle">After sending</h3>
      <p className="card__empty">
        {spec.redirect ? (
          <>
            Goes to <code>{spec.redirect}</code>
          </>
        ) : (
          spec.thank_you
        )}
        {spec.double_opt_in && <span className="muted"> · asks to confirm by email</span>}
      </p>
    </section>
  );
}

export function FormPage({ formKey }: { formKey: string }) {
  const [, navigate] = useLocation();
  const form = useQuery({
    queryKey: ["form", formKey],
    queryFn: () => unwrap(api.GET("/api/forms/{key}", { params: { path: { key: formKey } } })),
  });
  if (form.isPending) return <section className="page"><Loading what="the form" /></section>;
  if (form.isError) return <section className="page"><Failure error={form.error} /></section>;
  const f = form.data;
  const safeUrl = /^https?:\/\//.test(f.url);
  return (
    <section className="page">
      <PageHeader title={f.spec.name}>
        <span className="muted small">
          Version {f.version} · changed {moment(f.updated_at)}
        </span>
      </PageHeader>
      {f.spec.title && <p className="muted">Titled “{f.spec.title}” on the page.</p>}
      <section className="card card--wide" aria-label="Where it lives">
        <h2 className="card__title">Where it lives</h2>
        <p>
          Hosted page:{" "}
          {safeUrl ? (
            <a href={f.url} target="_blank" rel="noopener noreferrer" data-testid="form-link">
              {f.url}
            </a>
          ) : (
            <code data-testid="form-link">{f.url}</code>
          )}
        </p>
        <div className="card__header">
          <h3 className="card__subtitle">Embed in a website: paste where the form goes</h3>
          <div className="page__actions">
            <CopyButton text={f.embed_html} />
          </div>
        </div>
        <pre className="snippet" data-testid="snippet">{f.embed_html}</pre>
      </section>
      <div className="grid">
        <Questions spec={f.spec} />
        <FiguresTable formKey={f.key} by="source" />
      </div>
      <FiguresTable formKey={f.key} by="page" wide />
      <Editor key={`${f.key}:${f.version}`} form={f} onSaved={(saved) => navigate(`/forms/${encodeURIComponent(saved.key)}`)} />
    </section>
  );
}

export function NewFormPage() {
  const [, navigate] = useLocation();
  return (
    <section className="page">
      <PageHeader title="New form" />
      <p className="muted">
        Start from the example: change the key, the questions and the consent wording, then create it. Field types are text,
        email, phone, number, textarea, select and checkbox.
      </p>
      <Editor form={null} onSaved={(saved) => navigate(`/forms/${encodeURIComponent(saved.key)}`)} />
    </section>
  );
}
