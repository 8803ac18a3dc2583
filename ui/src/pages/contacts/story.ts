// Pure helpers for the contacts pages: the list's filters as query parameters, consent split
// into channels and topics, and each step-log line sorted into "why" and "why not".

export interface ContactFilters {
  q: string;
  tag: string;
  segment: string;
}

export const NO_FILTERS: ContactFilters = { q: "", tag: "", segment: "" };

/** The filters a person set, trimmed, as GET /api/contacts query parameters. */
export function filterQuery(filters: ContactFilters): { q?: string; tag?: string; segment?: string } {
  const query: { q?: string; tag?: string; segment?: string } = {};
  const q = filters.q.trim();
  const tag = filters.tag.trim();
  const segment = filters.segment.trim();
  if (q) query.q = q;
  if (tag) query.tag = tag;
  if (segment) query.segment = segment;
  return query;
}

/** Filters from the address bar (?q=&tag=&segment=), so a filtered list can be shared. */
export function filtersFrom(search: string): ContactFilters {
  const params = new URLSearchParams(search);
  return { q: params.get("q") ?? "", tag: params.get("tag") ?? "", segment: params.get("segment") ?? "" };
}

export function filtersToSearch(filters: ContactFilters): string {
  const params = new URLSearchParams(filterQuery(filters));
  const text = params.toString();
  return text ? `?${text}` : "";
}

/** Consent as stored (`email`, `sms`, `topic:newsletter`) split into channels and topics. */
export function splitConsent(consent: Record<string, string>): {
  channels: [string, string][];
  topics: [string, string][];
} {
  const channels: [string, string][] = [];
  const topics: [string, string][] = [];
  for (const [key, status] of Object.entries(consent).sort(([a], [b]) => a.localeCompare(b))) {
    if (key.startsWith("topic:")) topics.push([key.slice("topic:".length), status]);
    else channels.push([key, status]);
  }
  return { channels, topics };
}

/** Step-log actions that say something did not happen, or stopped: the "why not" lines. */
const WHY_NOT = new Set(["not_enrolled", "held", "dropped", "deferred", "failed", "timed_out", "rejected"]);

export type Verdict = "why" | "why-not";

export function verdictOf(action: string): Verdict {
  return WHY_NOT.has(action) ? "why-not" : "why";
}

/** An action as words: `not_enrolled` → "not enrolled". */
export function actionLabel(action: string): string {
  return action.replaceAll("_", " ");
}

export interface StepLine {
  at: string;
  workflow: string | null;
  step_id: string | null;
  action: string;
  detail: string;
}

/** Decisions newest first, each marked why or why not, optionally only one kind. */
export function decisions<T extends StepLine>(lines: T[], only: Verdict | "all"): (T & { verdict: Verdict })[] {
  return lines
    .map((line) => ({ ...line, verdict: verdictOf(line.action) }))
    .filter((line) => only === "all" || line.verdict === only)
    .reverse();
}
