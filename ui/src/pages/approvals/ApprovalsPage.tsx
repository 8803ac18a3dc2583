// The approvals inbox: each journey paused for a person's decision, with what it concerns
// (contact, workflow, the message approving would send, the deadline); approve or reject
// with a comment. The server decides who may: the step's named approvers, or the approver
// role when it names nobody, and owners always; the card says when the caller may not. A
// notice's link opens the inbox at its approval (`/approvals?open=<id>`).
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { Link } from "wouter";
import { api, unwrap } from "../../api/client";
import type { components } from "../../api/schema";
import { fromNow, moment } from "../common/format";
import { Empty, Failure, Loading, PageHeader, useRole } from "../common/parts";

export type Approval = components["schemas"]["ApprovalOut"];

type Decision = "approve" | "reject";

function Preview({ approval }: { approval: Approval }) {
  const preview = approval.context?.preview;
  if (!preview) return <p className="muted">Approving does not send a message straight away.</p>;
  return (
    <figure className="preview" aria-label="Message preview">
      <figcaption className="preview__meta">
        {preview.channel} · template <code>{preview.template}</code> · step <code>{preview.step_id}</code>
      </figcaption>
      {preview.problem ? (
        <p className="alert alert--error">{preview.problem}</p>
      ) : (
        <>
          {preview.subject && <p className="preview__subject">{preview.subject}</p>}
          <pre className="preview__body">{preview.text ?? "(no text part)"}</pre>
        </>
      )}
    </figure>
  );
}

export function ApprovalCard({
  approval,
  now,
  canDecide,
  onDecide,
  busy,
  opened = false,
}: {
  approval: Approval;
  now: Date;
  canDecide: boolean;
  onDecide: (decision: Decision, comment: string) => void;
  busy: boolean;
  /** Opened from a notice's link: shown first in view. */
  opened?: boolean;
}) {
  const [comment, setComment] = useState("");
  const card = useRef<HTMLElement>(null);
  useEffect(() => {
    if (opened) card.current?.scrollIntoView?.({ block: "start" });
  }, [opened]);
  const context = approval.context;
  const overdue = new Date(approval.expires_at) < now;
  return (
    <article
      ref={card}
      className={`card approval${opened ? " approval--opened" : ""}`}
      aria-label={`Approval ${approval.id}`}
      aria-current={opened ? "true" : undefined}
    >
      <header className="approval__header">
        <h2 className="approval__message">{approval.message}</h2>
        <span className={`deadline${overdue ? " deadline--over" : ""}`} title={moment(approval.expires_at)}>
          Decide {fromNow(approval.expires_at, now)}
        </span>
      </header>
      <dl className="facts facts--inline">
        <div className="facts__row">
          <dt>Contact</dt>
          <dd>
            <Link href={`/contacts/${approval.contact_id}`}>
              {context?.contact.name ? `${context.contact.name} · ` : ""}
              {context?.contact.email ?? context?.contact.user_id ?? `Contact ${approval.contact_id}`}
            </Link>
          </dd>
        </div>
        <div className="facts__row">
          <dt>Workflow</dt>
          <dd>
            {context ? (
              <Link href={`/workflows/${encodeURIComponent(context.workflow)}`}>
                {context.workflow_name} <span className="muted">v{context.version}</span>
              </Link>
            ) : (
              <span className="muted">the journey has ended</span>
            )}{" "}
            · step <code>{approval.step_id}</code>
          </dd>
        </div>
        {approval.approvers.length > 0 && (
          <div className="facts__row">
            <dt>Asked of</dt>
            <dd>{approval.approvers.join(", ")}</dd>
          </div>
        )}
      </dl>
      <Preview approval={approval} />
      {!approval.may_decide && (
        <p className="muted" data-testid="not-yours">
          {approval.approvers.length > 0
            ? `Only ${approval.approvers.join(" or ")}, or an owner, may decide this one; you can read it.`
            : "Only approvers and owners may decide this one; you can read it."}
        </p>
      )}
      {canDecide && (
        <div className="approval__decide">
          <label className="field approval__comment">
            <span className="field__label">Comment (kept on the contact's timeline)</span>
            <textarea
              className="input textarea"
              rows={2}
              maxLength={2000}
              value={comment}
              onChange={(e) => setComment(e.target.value)}
              disabled={!canDecide || busy}
            />
          </label>
          <div className="approval__buttons">
            <button
              type="button"
              className="button button--danger-outline"
              disabled={!canDecide || busy}
              onClick={() => onDecide("reject", comment)}
            >
              Reject
            </button>
            <button
              type="button"
              className="button button--primary"
              disabled={!canDecide || busy}
              onClick={() => onDecide("approve", comment)}
            >
              Approve
            </button>
          </div>
        </div>
      )}
    </article>
  );
}

export function ApprovalsPage() {
  const client = useQueryClient();
  const role = useRole();
  const canDecide = role === "approver" || role === "owner";
  const [done, setDone] = useState<string | null>(null);
  const opened = Number(new URLSearchParams(window.location.search).get("open"));
  const inbox = useQuery({ queryKey: ["approvals"], queryFn: () => unwrap(api.GET("/api/approvals")) });
  const decide = useMutation({
    mutationFn: ({ id, decision, comment }: { id: number; decision: Decision; comment: string }) => {
      const body = { by: "console", comment: comment.trim() || null };
      const path = { params: { path: { approval_id: id } }, body };
      return unwrap(
        decision === "approve"
          ? api.POST("/api/approvals/{approval_id}/approve", path)
          : api.POST("/api/approvals/{approval_id}/reject", path),
      );
    },
    onSuccess: (result) => {
      setDone(`Approval ${result.id} ${result.status}; the journey is now ${result.enrollment_status}.`);
      void client.invalidateQueries({ queryKey: ["approvals"] });
    },
  });
  const now = new Date();
  return (
    <section className="page">
      <PageHeader title="Approvals" count={inbox.data?.length} />
      {!canDecide && role && (
        <p className="alert alert--info">
          You are {role === "editor" ? "an" : "a"} {role}: you can read the inbox, but only approvers and owners decide.
        </p>
      )}
      {done && (
        <p className="alert alert--ok" role="status">
          {done}
        </p>
      )}
      {decide.isError && <Failure error={decide.error} />}
      {inbox.isPending && <Loading what="the inbox" />}
      {inbox.isError && <Failure error={inbox.error} />}
      {inbox.data && inbox.data.length === 0 && (
        <Empty badge="✓" title="Nothing waits for a decision">
          <p className="empty__text">
            Journeys that reach an <code>approval</code> step pause here until someone approves or rejects them, or their
            timeout passes.
          </p>
        </Empty>
      )}
      <div className="stack">
        {inbox.data?.map((approval) => (
          <ApprovalCard
            key={approval.id}
            approval={approval}
            now={now}
            canDecide={canDecide && approval.may_decide}
            opened={approval.id === opened}
            busy={decide.isPending && decide.variables.id === approval.id}
            onDecide={(decision, comment) => decide.mutate({ id: approval.id, decision, comment })}
          />
        ))}
      </div>
    </section>
  );
}
