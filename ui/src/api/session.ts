// The session contract (POST/GET/DELETE /api/session, POST /api/session/workspace).
import { csrfHeaders, setCsrfToken } from "./csrf";
import { toApiError } from "./problem";
import type { components } from "./schema";

/** Who is logged in, where, as what (owner, editor, approver or viewer). */
export type Session = components["schemas"]["SessionOut"];
export type Credentials = components["schemas"]["Login"];

async function call(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(path, {
    method,
    credentials: "same-origin",
    headers: {
      Accept: "application/json",
      ...(body === undefined ? {} : { "Content-Type": "application/json" }),
      ...csrfHeaders(method),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function read(response: Response): Promise<Session> {
  if (!response.ok) throw await toApiError(response);
  const session = (await response.json()) as Session;
  setCsrfToken(session.csrf_token);
  return session;
}

/** The current session, or null when nobody is logged in. */
export async function currentSession(): Promise<Session | null> {
  const response = await call("GET", "/api/session");
  if (response.status === 401) {
    setCsrfToken(null);
    return null;
  }
  return read(response);
}

/**
 * The workspace each person last worked in, kept by this browser (a workspace key, no
 * secret), so someone in several workspaces logs in where they left off, not in the first by
 * name. Each person is kept under the SHA-256 of their lower-cased email, so the browser's
 * storage does not list who logged in on it.
 */
const LAST_WORKSPACE = "tidings.last-workspace";
const HASHED = /^[0-9a-f]{64}$/;

async function personKey(email: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(email.trim().toLowerCase()));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

function lastWorkspaces(): Record<string, string> {
  try {
    const kept: unknown = JSON.parse(localStorage.getItem(LAST_WORKSPACE) ?? "{}");
    if (typeof kept !== "object" || kept === null) return {};
    // Entries kept under a plain email (as earlier versions did) are dropped.
    return Object.fromEntries(
      Object.entries(kept as Record<string, unknown>).filter(
        (entry): entry is [string, string] => HASHED.test(entry[0]) && typeof entry[1] === "string",
      ),
    );
  } catch {
    return {};
  }
}

async function remember(session: Session): Promise<Session> {
  try {
    const kept = { ...lastWorkspaces(), [await personKey(session.person.email)]: session.workspace.key };
    localStorage.setItem(LAST_WORKSPACE, JSON.stringify(kept));
  } catch {
    // Storage refused (private mode, quota): the next login opens the server's choice.
  }
  return session;
}

export async function logIn(credentials: Credentials): Promise<Session> {
  const last = credentials.workspace ?? lastWorkspaces()[await personKey(credentials.email)];
  if (last) {
    const response = await call("POST", "/api/session", { ...credentials, workspace: last });
    // 403: no longer a member there; the server's choice then, with the same credentials.
    if (response.status !== 403 || credentials.workspace) return remember(await read(response));
  }
  return remember(await read(await call("POST", "/api/session", credentials)));
}

export async function switchWorkspace(workspace: string): Promise<Session> {
  return remember(await read(await call("POST", "/api/session/workspace", { workspace })));
}

export async function logOut(): Promise<void> {
  const response = await call("DELETE", "/api/session");
  if (!response.ok && response.status !== 401) throw await toApiError(response);
  setCsrfToken(null);
}
