// Small parts every page uses: loading and error lines, empty states, a confirmation dialog.
import { useEffect, useRef, type ReactNode } from "react";
import { Link } from "wouter";
import { describe } from "../../api/problem";
import { useSession } from "../../session/useSession";

export function Loading({ what }: { what: string }) {
  return <p className="muted">Loading {what}…</p>;
}

/** The server's problem as one line a person can act on. */
export function Failure({ error }: { error: unknown }) {
  return (
    <p className="alert alert--error" role="alert">
      {describe(error)}
    </p>
  );
}

export function Empty({ badge = "·", title, children }: { badge?: string; title: string; children: ReactNode }) {
  return (
    <div className="empty">
      <div className="empty__badge" aria-hidden="true">
        {badge}
      </div>
      <h2 className="empty__title">{title}</h2>
      {children}
    </div>
  );
}

export function PageHeader({ title, count, children }: { title: ReactNode; count?: number; children?: ReactNode }) {
  return (
    <header className="page__header">
      <h1 className="page__title">{title}</h1>
      {count !== undefined && <span className="page__count">{count}</span>}
      {children && <div className="page__actions">{children}</div>}
    </header>
  );
}

/** A modal that asks before something that cannot be undone; Escape or Cancel closes it. */
export function Confirm({
  title,
  children,
  action,
  busy,
  onConfirm,
  onCancel,
}: {
  title: string;
  children: ReactNode;
  action: string;
  busy?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const element = dialog.current;
    if (element && !element.open && typeof element.showModal === "function") element.showModal();
  }, []);
  return (
    <dialog ref={dialog} className="dialog" aria-label={title} onCancel={onCancel}>
      <h2 className="dialog__title">{title}</h2>
      <div className="dialog__body">{children}</div>
      <div className="dialog__actions">
        <button type="button" className="button" onClick={onCancel} disabled={busy}>
          Cancel
        </button>
        <button type="button" className="button button--danger" onClick={onConfirm} disabled={busy}>
          {action}
        </button>
      </div>
    </dialog>
  );
}

/** Tabs as links: each tab is an address, so a report can be shared and reloaded. */
export function Tabs({ tabs, active, base }: { tabs: readonly { key: string; label: string }[]; active: string; base: string }) {
  return (
    <nav className="tabs" aria-label="Sections">
      {tabs.map((tab) => (
        <Link
          key={tab.key}
          href={`${base}/${tab.key}`}
          className={`tabs__tab${tab.key === active ? " tabs__tab--active" : ""}`}
          aria-current={tab.key === active ? "page" : undefined}
        >
          {tab.label}
        </Link>
      ))}
    </nav>
  );
}

/** The role of the person logged in ("owner", "editor", "approver", "viewer"), or "". */
export function useRole(): string {
  return useSession().data?.role ?? "";
}

/** Editors and owners change workflows, segments and forms; the server refuses everyone else. */
export function changesWorkflows(role: string): boolean {
  return role === "owner" || role === "editor";
}
