// Who is at a step right now (waiting there or being moved on), each a link to the contact:
// what a click on a step of the live canvas shows under its settings.
import { useQuery } from "@tanstack/react-query";
import { Link } from "wouter";
import { api, unwrap } from "../api/client";
import { describe } from "../api/problem";
import { moment } from "../pages/common/format";

const SHOWN = 20;

export function StepContacts({ workflowKey, stepId }: { workflowKey: string; stepId: string }) {
  const found = useQuery({
    queryKey: ["step-contacts", workflowKey, stepId],
    queryFn: async () => {
      const ask = (status: "waiting" | "active") =>
        unwrap(
          api.GET("/api/workflows/{key}/enrollments", {
            params: { path: { key: workflowKey }, query: { step: stepId, status, limit: SHOWN } },
          }),
        );
      const [waiting, active] = await Promise.all([ask("waiting"), ask("active")]);
      return [...waiting, ...active].slice(0, SHOWN);
    },
  });
  return (
    <section className="step-contacts" aria-label="Contacts at this step">
      <h3 className="field__label">At this step now</h3>
      {found.isError && <p className="form__problem">{describe(found.error)}</p>}
      {found.isPending && <p className="muted">Loading…</p>}
      {found.data && found.data.length === 0 && <p className="muted">No one is at this step now.</p>}
      {found.data && found.data.length > 0 && (
        <ul className="step-contacts__list">
          {found.data.map((e) => (
            <li key={e.id}>
              <Link href={`/contacts/${e.contact_id}`}>{e.contact_email ?? `contact #${e.contact_id}`}</Link>{" "}
              <span className="muted small">
                {e.status}
                {e.wake_at ? ` until ${moment(e.wake_at)}` : ""}
              </span>
            </li>
          ))}
        </ul>
      )}
      {found.data && found.data.length === SHOWN && <p className="muted small">The first {SHOWN} are shown.</p>}
    </section>
  );
}
