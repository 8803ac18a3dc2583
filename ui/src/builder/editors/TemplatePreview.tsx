// A send step's message rendered by the server as you type, for a chosen contact and a
// sample event, at desktop and mobile widths; and a test send to an address. Loaded lazily:
// only people who open a send step pay for it.
import { useMutation, useQuery } from "@tanstack/react-query";
import { useId, useMemo, useState } from "react";
import { api, unwrap } from "../../api/client";
import { describe } from "../../api/problem";
import { FRAME_SANDBOX, isFrameUrl, readEvent, WIDTHS, type Width } from "./previewFrame";
import { useDebounced } from "./useDebounced";
import "../../styles/preview.css";

export const PREVIEW_AFTER_MS = 400;

interface Source {
  subject?: string | null;
  html?: string | null;
  text?: string | null;
}

export interface TemplatePreviewProps {
  workflowKey: string;
  stepId: string;
  templateName: string;
  channel: string;
  template: Record<string, unknown>;
}

function sourceOf(template: Record<string, unknown>): Source {
  const part = (name: string) => (typeof template[name] === "string" ? (template[name] as string) : null);
  return { subject: part("subject"), html: part("html"), text: part("text") };
}

interface Chosen {
  id: number;
  label: string;
}

function ContactPicker({ chosen, onChoose }: { chosen: Chosen | null; onChoose: (c: Chosen | null) => void }) {
  const [search, setSearch] = useState("");
  const typed = useDebounced(search.trim(), 250);
  const found = useQuery({
    queryKey: ["preview-contacts", typed],
    queryFn: () => unwrap(api.GET("/api/contacts", { params: { query: { q: typed, limit: 8 } } })),
    enabled: typed.length >= 2,
  });
  const inputId = useId();
  return (
    <div className="form__row">
      <label className="field__label" htmlFor={inputId}>
        Render for
      </label>
      {chosen ? (
        <p className="template-preview__chosen">
          <span>{chosen.label}</span>{" "}
          <button type="button" className="button button--ghost" onClick={() => onChoose(null)}>
            Change
          </button>
        </p>
      ) : (
        <>
          <input
            id={inputId}
            className="input"
            type="search"
            placeholder="search contacts by email, user id or phone"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
          />
          {found.isError && <p className="form__problem">{describe(found.error)}</p>}
          {found.data && found.data.length === 0 && <p className="form__hint">No contact matches.</p>}
          {found.data && found.data.length > 0 && (
            <ul className="template-preview__results" aria-label="Contacts found">
              {found.data.map((c) => {
                const label = c.email ?? c.user_id ?? c.phone ?? `contact ${c.id}`;
                return (
                  <li key={c.id}>
                    <button type="button" className="button button--ghost" onClick={() => onChoose({ id: c.id, label })}>
                      {label}
                    </button>
                  </li>
                );
              })}
            </ul>
          )}
          <p className="form__hint">Empty: a contact with no fields.</p>
        </>
      )}
    </div>
  );
}

export function TemplatePreview({ workflowKey, stepId, templateName, channel, template }: TemplatePreviewProps) {
  const [contact, setContact] = useState<Chosen | null>(null);
  const [eventText, setEventText] = useState("{}");
  const [width, setWidth] = useState<Width>("desktop");
  const [to, setTo] = useState("");
  const source = useMemo(() => sourceOf(template), [template]);
  const read = readEvent(eventText);
  const event = "event" in read ? read.event : null;
  const ask = useDebounced(
    useMemo(() => ({ source, event, contact: contact ? String(contact.id) : null }), [source, eventText, contact]), // eslint-disable-line react-hooks/exhaustive-deps
    PREVIEW_AFTER_MS,
  );
  const rendered = useQuery({
    queryKey: ["template-preview", workflowKey, templateName, ask],
    queryFn: () =>
      unwrap(
        api.POST("/api/workflows/{key}/preview", {
          params: { path: { key: workflowKey } },
          body: { template: templateName, draft: true, source: ask.source, event: ask.event ?? {}, contact: ask.contact },
        }),
      ),
    enabled: ask.event !== null,
    retry: false,
    placeholderData: (previous) => previous,
  });
  const testSend = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/api/workflows/{key}/steps/{step}/test-send", {
          params: { path: { key: workflowKey, step: stepId } },
          body: { to: to.trim(), source, event: event ?? {}, contact: contact ? String(contact.id) : null },
        }),
      ),
  });
  const ids = useId();
  const shown = rendered.data;
  const isEmail = channel === "email";
  return (
    <section className="template-preview" aria-label="Preview and test">
      <h3 className="field__label">Preview</h3>
      <ContactPicker chosen={contact} onChoose={setContact} />
      <div className="form__row">
        <label className="field__label" htmlFor={`${ids}-event`}>
          Sample event (JSON)
        </label>
        <textarea
          id={`${ids}-event`}
          className={`input textarea${event === null ? " input--invalid" : ""}`}
          rows={2}
          value={eventText}
          onChange={(e) => setEventText(e.target.value)}
        />
        {"error" in read && <p className="form__problem">{read.error}</p>}
      </div>
      {isEmail && (
        <div className="template-preview__widths" role="group" aria-label="Width">
          {(Object.keys(WIDTHS) as Width[]).map((w) => (
            <button
              key={w}
              type="button"
              className={`button${width === w ? " button--primary" : ""}`}
              aria-pressed={width === w}
              onClick={() => setWidth(w)}
            >
              {w === "desktop" ? "Desktop" : "Mobile"}
            </button>
          ))}
        </div>
      )}
      {rendered.isError && (
        <p className="form__problem" role="alert">
          {describe(rendered.error)}
        </p>
      )}
      {shown && !rendered.isError && (
        <div className="template-preview__message" aria-busy={rendered.isFetching || undefined}>
          {shown.subject !== null && (
            <p className="template-preview__subject">
              <span className="muted">Subject:</span> <span data-testid="preview-subject">{shown.subject}</span>
            </p>
          )}
          {isEmail && shown.html !== null ? (
            isFrameUrl(shown.frame) ? (
              <iframe
                title="Rendered email"
                className="template-preview__frame"
                sandbox={FRAME_SANDBOX}
                referrerPolicy="no-referrer"
                src={shown.frame}
                style={{ width: WIDTHS[width] }}
              />
            ) : (
              <p className="form__problem">The server gave no preview page for this message.</p>
            )
          ) : (
            <pre className="template-preview__text" data-testid="preview-text">
              {shown.text ?? ""}
            </pre>
          )}
        </div>
      )}
      <form
        className="template-preview__test"
        onSubmit={(e) => {
          e.preventDefault();
          if (to.trim()) testSend.mutate();
        }}
      >
        <label className="field__label" htmlFor={`${ids}-to`}>
          Send a test to
        </label>
        <div className="template-preview__row">
          <input
            id={`${ids}-to`}
            className="input"
            type={isEmail ? "email" : "tel"}
            placeholder={isEmail ? "you@example.com" : "+447700900123"}
            value={to}
            onChange={(e) => setTo(e.target.value)}
          />
          <button type="submit" className="button" disabled={!to.trim() || testSend.isPending}>
            {testSend.isPending ? "Sending…" : "Send test"}
          </button>
        </div>
        {testSend.isSuccess && (
          <p className="form__hint" role="status">
            Sent to {testSend.data.to}
            {testSend.data.subject ? `: ${testSend.data.subject}` : ""}. Tests are left out of every figure.
          </p>
        )}
        {testSend.isError && (
          <p className="form__problem" role="alert">
            {describe(testSend.error)}
          </p>
        )}
      </form>
    </section>
  );
}
