// Which live figures the canvas shows: one version or all of them, over a period of UTC days.
// Pure, so the page and its tests agree on what is asked of the server.

export interface FiguresChoice {
  /** A version number, or "all" for every version's journeys together. */
  version: number | "all";
  /** First and last UTC day included, YYYY-MM-DD; "" leaves that end open. */
  since: string;
  until: string;
}

export interface FiguresQuery {
  version?: number;
  since?: string;
  until?: string;
}

/** The stats endpoint's query for a choice: open ends and "all versions" are left out. */
export function figuresQuery(choice: FiguresChoice): FiguresQuery {
  const query: FiguresQuery = {};
  if (choice.version !== "all") query.version = choice.version;
  if (choice.since) query.since = choice.since;
  if (choice.until) query.until = choice.until;
  return query;
}

/** A period that ends before it starts, said the way the form shows it; null when fine. */
export function periodProblem(since: string, until: string): string | null {
  return since && until && until < since ? `"To" (${until}) is before "From" (${since}): pick a later end day.` : null;
}

/** What the figures on the canvas count, in words for the line above it. */
export function figuresCaption(choice: FiguresChoice): string {
  const which = choice.version === "all" ? "all versions" : `version ${choice.version}`;
  const when =
    choice.since && choice.until
      ? `from ${choice.since} to ${choice.until}`
      : choice.since
        ? `since ${choice.since}`
        : choice.until
          ? `up to ${choice.until}`
          : "all time";
  return `Journeys on ${which}, ${when} (UTC days).`;
}
