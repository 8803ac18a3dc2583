// The segment rule builder's model: rows a person fills in, written out as the condition
// language the server parses (tidings.core.conditions), so a built segment is plain text
// that a script or a YAML file could hold too.

export type FieldOp = "==" | "!=" | ">" | ">=" | "<" | "<=" | "contains" | "not contains" | "is null" | "is not null";

export interface FieldRule {
  kind: "field";
  field: string; //: a contact field, like `plan` or `consent.email`
  op: FieldOp;
  value: string;
}

export interface EventRule {
  kind: "performed";
  event: string;
  atLeast: number;
  withinDays: number | null;
}

export type Rule = FieldRule | EventRule;

export const FIELD_OPS: { op: FieldOp; label: string }[] = [
  { op: "==", label: "is" },
  { op: "!=", label: "is not" },
  { op: ">", label: "is more than" },
  { op: ">=", label: "is at least" },
  { op: "<", label: "is less than" },
  { op: "<=", label: "is at most" },
  { op: "contains", label: "contains" },
  { op: "not contains", label: "does not contain" },
  { op: "is null", label: "is not set" },
  { op: "is not null", label: "is set" },
];

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A field as the language names it: `plan` → `contact.plan`; `consent.email` stays. */
export function fieldPath(field: string): string | null {
  const parts = field.trim().split(".");
  if (parts.length === 0 || !parts.every((p) => NAME.test(p))) return null;
  if (parts[0] === "contact" || parts[0] === "consent") return parts.length > 1 ? parts.join(".") : null;
  return `contact.${parts.join(".")}`;
}

/**
 * A typed value as a literal: numbers and true/false as they are, anything else quoted.
 * A number with a leading zero (a zip code, "007") stays text, since the parser would read
 * it as another number; a value typed in double quotes ("1") is text as typed.
 */
export function literal(value: string): string {
  const text = value.trim();
  if (/^-?(0|[1-9]\d*)(\.\d+)?$/.test(text)) return text;
  if (text === "true" || text === "false") return text;
  if (text.length >= 2 && text.startsWith('"') && text.endsWith('"')) return JSON.stringify(text.slice(1, -1));
  return JSON.stringify(value);
}

/** One rule as condition text, or the problem that keeps it from being one. */
export function ruleText(rule: Rule): { text: string } | { problem: string } {
  if (rule.kind === "performed") {
    const event = rule.event.trim();
    if (!event) return { problem: "name the event, like order_completed" };
    if (!Number.isInteger(rule.atLeast) || rule.atLeast < 1) return { problem: "the count must be a whole number from 1" };
    const name = NAME.test(event) ? event : JSON.stringify(event);
    let text = `performed ${name} at least ${rule.atLeast} time${rule.atLeast === 1 ? "" : "s"}`;
    if (rule.withinDays !== null) {
      if (!Number.isInteger(rule.withinDays) || rule.withinDays < 1) return { problem: "the days must be a whole number from 1" };
      text += ` within ${rule.withinDays}d`;
    }
    return { text };
  }
  const path = fieldPath(rule.field);
  if (path === null) return { problem: "name a field with letters, digits and _, like plan or consent.email" };
  if (rule.op === "is null" || rule.op === "is not null") return { text: `${path} ${rule.op}` };
  if (rule.value.trim() === "") return { problem: `give ${path} a value to compare with` };
  return { text: `${path} ${rule.op} ${literal(rule.value)}` };
}

/** All the rules joined by `and` or `or`, or the first problem (with the row it is on). */
export function conditionOf(rules: Rule[], join: "and" | "or"): { condition: string } | { problem: string; row: number } {
  const parts: string[] = [];
  for (const [row, rule] of rules.entries()) {
    const written = ruleText(rule);
    if ("problem" in written) return { problem: written.problem, row };
    parts.push(rules.length > 1 && written.text.includes(" where ") ? `(${written.text})` : written.text);
  }
  if (parts.length === 0) return { problem: "add a rule", row: 0 };
  return { condition: parts.join(` ${join} `) };
}

/** A segment key from its name: `Pro buyers` → `pro_buyers`. */
export function keyOf(name: string): string {
  return name
    .toLowerCase()
    .normalize("NFKD")
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "")
    .slice(0, 64);
}
