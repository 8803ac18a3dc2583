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

export async function logIn(credentials: Credentials): Promise<Session> {
  return read(await call("POST", "/api/session", credentials));
}

export async function switchWorkspace(workspace: string): Promise<Session> {
  return read(await call("POST", "/api/session/workspace", { workspace }));
}

export async function logOut(): Promise<void> {
  const response = await call("DELETE", "/api/session");
  if (!response.ok && response.status !== 401) throw await toApiError(response);
  setCsrfToken(null);
}
