// How the server's rendered email HTML is shown: only ever as the `srcdoc` of a sandboxed
// iframe (no scripts, no same-origin, no forms), never inserted into the console's page.

/** The preview's own policy: nothing loads but inline styles and images from data: or https. */
export const PREVIEW_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data: https:; font-src data:";

/** The widths the preview is shown at, in CSS pixels. */
export const WIDTHS = { desktop: 640, mobile: 375 } as const;
export type Width = keyof typeof WIDTHS;

/** The document the iframe shows: the rendered HTML, behind a CSP meta tag placed first so
 * it applies before anything in the message is read. */
export function previewDocument(html: string): string {
  const meta = `<meta http-equiv="Content-Security-Policy" content="${PREVIEW_CSP}">`;
  return `<!doctype html><html><head>${meta}<meta name="viewport" content="width=device-width"></head><body>${html}</body></html>`;
}

/** Parse the sample event typed as JSON: an object, or the reason it is not one. */
export function readEvent(text: string): { event: Record<string, unknown> } | { error: string } {
  if (text.trim() === "") return { event: {} };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return { error: `not JSON: ${(e as Error).message}` };
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    return { error: 'a JSON object, like {"cart_id": "c1"}' };
  }
  return { event: parsed as Record<string, unknown> };
}
