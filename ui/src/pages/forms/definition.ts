// Pure parts of the forms pages: reading a definition typed as YAML or JSON, the example a new
// form starts from, the server's problems as lines, rates. No React, no fetching.
import { parse, stringify } from "yaml";
import { ApiError, describe } from "../../api/problem";
import { rate } from "../common/format";

/** What a new form starts from: small, valid, and showing each kind of part once. */
export const EXAMPLE_FORM = `# A form: its questions, consent boxes, and what a visitor sees after sending.
key: newsletter
name: Newsletter sign-up
title: Get the monthly letter
submit_label: Sign up
fields:
  - {key: email, label: Email, type: email, required: true}
  - {key: first_name, label: First name}
consents:
  - key: newsletter
    channel: email
    wording: Send me the monthly newsletter. I can unsubscribe at any time.
thank_you: Thanks! Check your inbox.
`;

export type Parsed = { ok: true; spec: Record<string, unknown> } | { ok: false; error: string };

/**
 * A definition typed as YAML or JSON (JSON is YAML too), as the object the server takes, or
 * what is wrong with the text, with its line, before anything is sent.
 */
export function parseDefinition(text: string): Parsed {
  let value: unknown;
  try {
    value = parse(text, { prettyErrors: true });
  } catch (error) {
    const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
    return { ok: false, error: `The text is not valid YAML or JSON: ${message}` };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, error: "The definition must be a mapping, like `key: contact` and `fields: [...]` on their own lines." };
  }
  const spec = value as Record<string, unknown>;
  if (typeof spec.key !== "string" || spec.key.trim() === "") {
    return { ok: false, error: "The definition needs a `key` (letters, digits, _ or -): it names the form in its link." };
  }
  return { ok: true, spec };
}

/** A stored definition as YAML text to edit (long wording stays on one line). */
export function definitionText(spec: object): string {
  return stringify(spec, { lineWidth: 0 });
}

/** The server's problems with a definition, each with its field path, as lines. */
export function problemLines(error: unknown): string[] {
  if (error instanceof ApiError && error.problem?.errors?.length) {
    return error.problem.errors.map((e) => `${e.path.replace(/^body\.?/, "") || "definition"}: ${e.message}${e.hint ? ` (${e.hint})` : ""}`);
  }
  return [describe(error)];
}

/** The conversion rate of a row: submissions of views, never above 100% (then none is shown). */
export function conversion(row: { views: number; submissions: number }): number | null {
  return rate(row.submissions, row.views);
}
