// One contact: who they are, what they agreed to, their scores and segments, their journeys,
// and every decision a workflow made about them with its reason ("why" and "why not").
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useLocation } from "wouter";
import { api, unwrap } from "../../api/client";
import { toApiError } from "../../api/problem";
import type { components } from "../../api/schema";
import { moment, plain, propertyPairs } from "../common/format";
import { Confirm, Failure, Loading, useRole } from "../common/parts";
import { contactLabel } from "./ContactsPage";
import { actionLabel, decisions, splitConsent, type Verdict } from "./story";

type Detail = components["schemas"]["ContactDetail"];

function Facts({ rows }: { rows: [string, unknown][] }) {
  if (rows.length === 0) return <p className="muted card__empty">None recorded.</p>;
  return (
    <dl className="facts">
      {rows.map(([name, value]) => (
        <div key={name} className="facts__row">
          <dt>{name}</dt>
          <dd>{plain(value)}</dd>
        </div>
      ))}
    </dl>
  );
}

function ConsentList({ rows, empty }: { rows: [string, string][]; empty: string }) {
  if (rows.length === 0) return <p className="muted card__empty">{empty}</p>;
  return (
    <ul className="consent">
      {rows.map(([name, status]) => (
        <li key={name}>
          <span>{name}</span>
          <span className={`pill pill--${status}`}>{status}</span>
        </li>
      ))}
    </ul>
  );
}

const VIEWS: { key: Verdict | "all"; label: string }[] = [
  { key: "all", label: "All" },
  { key: "why", label: "Why" },
  { key: "why-not", label: "Why not" },
];

export function WhyTimeline({ steps }: { steps: Detail["steps"] }) {
  const [view, setView] = useState<Verdict | "all">("all");
  const shown = decisions(steps, view);
  return (
    <section className="card card--wide" aria-labelledby="why-title">
      <header className="card__header">
        <h2 id="why-title" className="card__title">
          Journey decisions
        </h2>
        <div className="segmented" role="group" aria-label="Which decisions">
          {VIEWS.map((v) => (
            <button
              key={v.key}
              type="button"
              className={`segmented__item${view === v.key ? " segmented__item--on" : ""}`}
              aria-pressed={view === v.key}
              onClick={() => setView(v.key)}
            >
              {v.label}
            </button>
          ))}
        </div>
      </header>
      {shown.length === 0 ? (
        <p className="muted card__empty">
          {steps.length === 0
            ? "No workflow has considered this contact yet. Decisions appear here when an event triggers one."
            : "No decision of this kind."}
        </p>
      ) : (
        <ol className="timeline" data-testid="why">
          {shown.map((line, i) => (
            <li key={`${line.at}-${i}`} className={`timeline__item timeline__item--${line.verdict}`}>
              <div className="timeline__head">
                <span className={`verdict verdict--${line.verdict}`}>{line.verdict === "why" ? "why" : "why not"}</span>
                <strong>{actionLabel(line.action)}</strong>
                {line.workflow && (
                  <Link className="timeline__where" href={`/workflows/${encodeURIComponent(line.workflow)}`}>
                    {line.workflow}
                    {line.step_id ? ` › ${line.step_id}` : ""}
                  </Link>
                )}
                <time className="muted timeline__at">{moment(line.at)}</time>
              </div>
              {line.detail && <p className="timeline__detail">{line.detail}</p>}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

export function Profile({ contact }: { contact: Detail }) {
  const consent = splitConsent(contact.consent);
  const scores = Object.entries(contact.scores);
  return (
    <div className="grid">
      <section className="card">
        <h2 className="card__title">Profile</h2>
        <Facts
          rows={[
            ["Email", contact.email],
            ["Phone", contact.phone],
            ["User id", contact.user_id],
            ["Anonymous id", contact.anonymous_id],
            ["Timezone", contact.timezone],
            ["First seen", moment(contact.created_at)],
            ["Updated", moment(contact.updated_at)],
          ]}
        />
      </section>
      <section className="card">
        <h2 className="card__title">Traits</h2>
        <Facts rows={Object.entries(contact.attributes).sort(([a], [b]) => a.localeCompare(b))} />
        {contact.tags.length > 0 && (
          <div className="chips chips--spaced">
            {contact.tags.map((tag) => (
              <span key={tag} className="chip">
                {tag}
              </span>
            ))}
          </div>
        )}
      </section>
      <section className="card">
        <h2 className="card__title">Consent</h2>
        <h3 className="card__subtitle">Channels</h3>
        <ConsentList rows={consent.channels} empty="No channel consent recorded: marketing sends are held." />
        <h3 className="card__subtitle">Topics</h3>
        <ConsentList rows={consent.topics} empty="No topic preference: every topic is allowed." />
      </section>
      <section className="card">
        <h2 className="card__title">Scores and segments</h2>
        <Facts rows={[["Score", contact.score.toFixed(1)], ...scores.map(([k, v]): [string, unknown] => [k, v.toFixed(1)])]} />
        <h3 className="card__subtitle">Segments</h3>
        {contact.segments.length === 0 ? (
          <p className="muted card__empty">In no segment.</p>
        ) : (
          <div className="chips">
            {contact.segments.map((key) => (
              <Link key={key} className="chip chip--link" href={`/contacts?segment=${encodeURIComponent(key)}`}>
                {key}
              </Link>
            ))}
          </div>
        )}
      </section>
    </div>
  );
}

function Journeys({ rows }: { rows: Detail["enrollments"] }) {
  return (
    <section className="card card--wide">
      <h2 className="card__title">Journeys</h2>
      {rows.length === 0 ? (
        <p className="muted card__empty">Not in any workflow.</p>
      ) : (
        <table className="table table--flat">
          <thead>
            <tr>
              <th scope="col">Workflow</th>
              <th scope="col">Status</th>
              <th scope="col">At step</th>
              <th scope="col">Entered</th>
              <th scope="col">Ended</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((j) => (
              <tr key={j.id}>
                <td>
                  <Link className="table__link" href={`/workflows/${encodeURIComponent(j.workflow)}`}>
                    {j.workflow}
                  </Link>{" "}
                  <span className="muted">v{j.version}</span>
                </td>
                <td>
                  <span className={`pill pill--${j.status}`}>{j.status}</span>
                </td>
                <td>{j.step_id ? <code>{j.step_id}</code> : "—"}</td>
                <td className="muted">{moment(j.entered_at)}</td>
                <td className="muted">
                  {j.ended_at ? `${moment(j.ended_at)}${j.exit_reason ? ` · ${j.exit_reason}` : ""}` : "—"}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function Events({ rows }: { rows: Detail["events"] }) {
  return (
    <section className="card card--wide">
      <h2 className="card__title">Events</h2>
      {rows.length === 0 ? (
        <p className="muted card__empty">No events yet.</p>
      ) : (
        <ol className="events" data-testid="events">
          {rows.map((e) => (
            <li key={e.id} className="events__item">
              <span className="events__name">{e.name}</span>
              <time className="muted">{moment(e.occurred_at)}</time>
              {Object.keys(e.properties).length > 0 && (
                <dl className="events__props">
                  {propertyPairs(e.properties).map(([name, value]) => (
                    <div key={name}>
                      <dt className="muted">{name}</dt>
                      <dd>{value}</dd>
                    </div>
                  ))}
                </dl>
              )}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

async function downloadExport(id: number): Promise<void> {
  // Fetched (not navigated to) so a refusal shows as a message on this page.
  const response = await fetch(`/api/contacts/${id}/export`, { credentials: "same-origin" });
  if (!response.ok) throw await toApiError(response);
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = `contact-${id}.json`;
  link.click();
  URL.revokeObjectURL(url);
}

export function ContactPage({ id }: { id: number }) {
  const client = useQueryClient();
  const [, navigate] = useLocation();
  const owner = useRole() === "owner";
  const [asking, setAsking] = useState<"erase" | "export" | null>(null);
  const contact = useQuery({
    queryKey: ["contact", id],
    queryFn: () => unwrap(api.GET("/api/contacts/{contact_id}", { params: { path: { contact_id: id } } })),
  });
  const erase = useMutation({
    mutationFn: async () => {
      const { response } = await api.DELETE("/api/contacts/{contact_id}", { params: { path: { contact_id: id } } });
      if (!response.ok) throw await toApiError(response);
    },
    onSuccess: () => {
      client.removeQueries({ queryKey: ["contact", id] });
      void client.invalidateQueries({ queryKey: ["contacts"] });
      navigate("/contacts");
    },
    onSettled: () => setAsking(null),
  });
  const exporting = useMutation({ mutationFn: () => downloadExport(id), onSettled: () => setAsking(null) });

  if (contact.isPending) return <section className="page"><Loading what="the contact" /></section>;
  if (contact.isError) {
    return (
      <section className="page">
        <p className="crumbs"><Link href="/contacts">Contacts</Link></p>
        <Failure error={contact.error} />
      </section>
    );
  }
  const data = contact.data;
  const ownerOnly = owner ? undefined : "Only an owner of this workspace can do this";
  return (
    <section className="page">
      <header className="page__header">
        <nav className="crumbs" aria-label="Breadcrumb">
          <Link href="/contacts">Contacts</Link>
          <span aria-hidden="true">/</span>
        </nav>
        <h1 className="page__title">{contactLabel(data)}</h1>
        <div className="page__actions">
          <button type="button" className="button" disabled={!owner} title={ownerOnly} onClick={() => setAsking("export")}>
            Export data
          </button>
          <button
            type="button"
            className="button button--danger-outline"
            disabled={!owner}
            title={ownerOnly}
            onClick={() => setAsking("erase")}
          >
            Erase contact
          </button>
        </div>
      </header>
      {(erase.error ?? exporting.error) && <Failure error={erase.error ?? exporting.error} />}
      <Profile contact={data} />
      <WhyTimeline steps={data.steps} />
      <Journeys rows={data.enrollments} />
      <Events rows={data.events} />
      {asking === "erase" && (
        <Confirm
          title="Erase this contact?"
          action="Erase for good"
          busy={erase.isPending}
          onConfirm={() => erase.mutate()}
          onCancel={() => setAsking(null)}
        >
          <p>
            Everything about <strong>{contactLabel(data)}</strong> is deleted: profile, events, journeys and messages.
            Only a hash stays on the suppression list so an import cannot bring them back. This cannot be undone.
          </p>
        </Confirm>
      )}
      {asking === "export" && (
        <Confirm
          title="Export this contact's data?"
          action="Download JSON"
          busy={exporting.isPending}
          onConfirm={() => exporting.mutate()}
          onCancel={() => setAsking(null)}
        >
          <p>The file holds everything stored about this person. Keep it safe and delete it once it has been sent to them.</p>
        </Confirm>
      )}
    </section>
  );
}
