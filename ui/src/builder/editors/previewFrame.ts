// How the server's rendered email HTML is shown: only ever in a sandboxed iframe (no
// scripts, no same-origin, no forms) that loads the preview from its own URL, where the
// server serves it under a policy of its own that keeps the message's inline styles. It is
// never inserted into the console's page, whose policy would drop them.

/** What the preview frame may do: nothing. No scripts, no same origin, no forms, popups or
 * navigation of the page; the frame's own policy (server side) says `sandbox` too. */
export const FRAME_SANDBOX = "";

/** The widths the preview is shown at, in CSS pixels. */
export const WIDTHS = { desktop: 640, mobile: 375 } as const;
export type Width = keyof typeof WIDTHS;

/** Whether a frame URL from the server may be loaded: only the server's own preview path,
 * never another origin or scheme, whatever an answer says. */
export function isFrameUrl(url: string | null | undefined): url is string {
  return typeof url === "string" && /^\/preview-frames\/[\w-]{20,64}$/.test(url);
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
