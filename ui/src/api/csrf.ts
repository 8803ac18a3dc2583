// The CSRF token of the current cookie session, sent on every state-changing request.
let token: string | null = null;

export function setCsrfToken(value: string | null): void {
  token = value;
}

export function csrfHeaders(method: string): Record<string, string> {
  const changes = !["GET", "HEAD", "OPTIONS"].includes(method.toUpperCase());
  return changes && token ? { "X-CSRF-Token": token } : {};
}
