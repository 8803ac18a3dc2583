// The frame around every page: navigation on the left, the person and workspace on top.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { Link, useLocation } from "wouter";
import { describe } from "../api/problem";
import { logOut, switchWorkspace, type Session } from "../api/session";
import { SESSION_KEY } from "../session/useSession";

export const SECTIONS = [
  { href: "/workflows", label: "Workflows" },
  { href: "/contacts", label: "Contacts" },
  { href: "/segments", label: "Segments" },
  { href: "/forms", label: "Forms" },
  { href: "/approvals", label: "Approvals" },
  { href: "/reports", label: "Reports" },
  { href: "/settings", label: "Settings" },
] as const;

export function Shell({ session, children }: { session: Session; children: ReactNode }) {
  const client = useQueryClient();
  const [location] = useLocation();
  // Everything cached but the session belongs to the workspace just left. (clear() would also
  // drop the session query that the app is watching, and the app would never hear of it.)
  const forgetWorkspaceData = () =>
    client.removeQueries({ predicate: (query) => query.queryKey[0] !== SESSION_KEY[0] });
  const logout = useMutation({
    mutationFn: logOut,
    onSuccess: () => {
      client.setQueryData(SESSION_KEY, null);
      forgetWorkspaceData();
    },
  });
  const switcher = useMutation({
    mutationFn: switchWorkspace,
    onSuccess: (next) => {
      client.setQueryData(SESSION_KEY, next);
      forgetWorkspaceData();
    },
  });
  const error = logout.error ?? switcher.error;

  return (
    <div className="shell">
      <aside className="sidebar">
        <div className="brand">
          <span className="brand__mark" aria-hidden="true">T</span>
          <span className="brand__name">Tidings</span>
        </div>
        <nav aria-label="Console">
          <ul className="nav">
            {SECTIONS.map((section) => {
              const active = location === section.href || location.startsWith(`${section.href}/`);
              return (
                <li key={section.href}>
                  <Link
                    href={section.href}
                    className={`nav__link${active ? " nav__link--active" : ""}`}
                    aria-current={active ? "page" : undefined}
                  >
                    {section.label}
                  </Link>
                </li>
              );
            })}
          </ul>
        </nav>
      </aside>
      <div className="main">
        <header className="topbar">
          <div className="topbar__workspace">
            <span className="muted">Workspace</span>
            {session.workspaces.length > 1 ? (
              <select
                className="select"
                aria-label="Workspace"
                value={session.workspace.key}
                disabled={switcher.isPending}
                onChange={(e) => switcher.mutate(e.target.value)}
              >
                {session.workspaces.map((w) => (
                  <option key={w.key} value={w.key}>
                    {w.name}
                  </option>
                ))}
              </select>
            ) : (
              <strong data-testid="workspace">{session.workspace.name}</strong>
            )}
          </div>
          <div className="topbar__person">
            <div className="person">
              <span className="person__name" data-testid="person">{session.person.name || session.person.email}</span>
              <span className="person__meta">
                {session.person.email} · <span className="role">{session.role}</span>
              </span>
            </div>
            <button type="button" className="button" onClick={() => logout.mutate()} disabled={logout.isPending}>
              Log out
            </button>
          </div>
        </header>
        {error && (
          <p className="alert alert--error banner" role="alert">
            {describe(error)}
          </p>
        )}
        <div className="content">{children}</div>
      </div>
    </div>
  );
}
