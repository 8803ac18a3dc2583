// The delivery settings in words: the send-time policies as sentences, read from the JSON the
// editor holds, so a person sees what the rules do before (and while) changing them; and the
// server's problem with one field, to show under that field.

import { ApiError } from "../../api/problem";
import type { PathProblem } from "../../forms/Field";
import type { Values } from "../../forms/values";

type Json = Record<string, unknown>;

function object(value: unknown): Json | null {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Json) : null;
}

function str(value: unknown, fallback = "?"): string {
  return typeof value === "string" || typeof value === "number" ? String(value) : fallback;
}

/** One sentence per rule that is set; a single sentence saying so when none is. */
export function policiesSummary(policies: unknown): string[] {
  const p = object(policies);
  if (!p) return ["The policies must be a JSON object, like {\"caps\": []}."];
  const lines: string[] = [];
  const caps = Array.isArray(p.caps) ? p.caps : [];
  for (const raw of caps) {
    const cap = object(raw) ?? {};
    const channel = typeof cap.channel === "string" ? `${cap.channel} ` : "";
    lines.push(`At most ${str(cap.limit)} marketing ${channel}messages per ${str(cap.per)} to a contact${channel ? "" : ", on all channels together"}.`);
  }
  const quiet = object(p.quiet_hours);
  if (quiet) {
    const channels = Array.isArray(quiet.channels) ? quiet.channels.map((c) => str(c)).join(" or ") : "email or sms";
    lines.push(`No marketing ${channels} between ${str(quiet.start)} and ${str(quiet.end)} in the contact's own timezone; it waits until the end.`);
  }
  const after = object(p.after_purchase);
  if (after) lines.push(`No marketing for ${str(after.for)} after a contact's ${str(after.event, "order_completed")}.`);
  const duplicates = object(p.duplicates);
  if (duplicates) lines.push(`A marketing message identical to one the contact got within ${str(duplicates.within)} is dropped.`);
  const budget = object(p.alert_budget);
  if (budget) lines.push(`At most ${str(budget.per_day)} internal alerts a day; the rest wait for the next day.`);
  if (lines.length === 0) lines.push("No rule is set: every message goes out as soon as its step is due.");
  lines.push(`Days and contacts without a timezone follow ${str(p.timezone, "UTC")}.`);
  return lines;
}

/** The server's problems with the settings, each with its path without "body." (as the
 * form names its fields) and its message without pydantic's "Value error, ". */
export function serverProblems(error: unknown): PathProblem[] {
  if (!(error instanceof ApiError)) return [];
  return (error.problem?.errors ?? []).map((e) => ({
    path: e.path.replace(/^body\./, ""),
    message: e.message.replace(/^Value error, /, ""),
    hint: e.hint,
  }));
}

/** What the server said about one settings field (its path without "body."), to show under
 * the field itself rather than only in the list at the bottom of the form. */
export function fieldProblem(error: unknown, path: string): string | undefined {
  return serverProblems(error).find((p) => p.path === path)?.message;
}

/** The policies the JSON editor holds, or why they are not policies yet. */
export function parsePolicies(source: string): { policies: Values } | { problem: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(source);
  } catch (error) {
    return { problem: `Policies are not valid JSON: ${(error as Error).message}` };
  }
  if (object(parsed) === null) return { problem: 'Policies must be a JSON object, like {"caps": []}.' };
  return { policies: parsed as Values };
}
