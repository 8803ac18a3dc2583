// The typed admin API client: paths and bodies come from the server's OpenAPI document.
import createClient, { type Middleware } from "openapi-fetch";
import { csrfHeaders } from "./csrf";
import { apiErrorOf } from "./problem";
import type { paths } from "./schema";

const listeners = new Set<() => void>();

/** Called when the server says the session is gone (401), so the app can show the login. */
export function onSignedOut(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

const session: Middleware = {
  onRequest({ request }) {
    for (const [name, value] of Object.entries(csrfHeaders(request.method))) {
      request.headers.set(name, value);
    }
    return request;
  },
  onResponse({ response }) {
    if (response.status === 401) listeners.forEach((listener) => listener());
    return response;
  },
};

export const api = createClient<paths>({ baseUrl: "/", credentials: "same-origin" });
api.use(session);

/** The data of an openapi-fetch answer, or its problem thrown as an ApiError. */
export async function unwrap<T>(
  answer: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  const { data, error, response } = await answer;
  // openapi-fetch has read the body already (into `error` on a failure): build from that.
  if (!response.ok) throw apiErrorOf(response, error);
  if (data === undefined) throw apiErrorOf(response, null);
  return data;
}
