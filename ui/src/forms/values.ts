// Pure edits of a JSON record a form shows: a field left empty is left out, never written as
// null or [], so the server's default (or, for a workflow, the workspace's rule) applies.

export type Values = Record<string, unknown>;

/** The value as a record; {} for anything else. */
export function recordOf(value: unknown): Values {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Values) : {};
}

/** The record at `name`, or undefined when it is unset (missing or null). */
export function optionalRecord(record: Values, name: string): Values | undefined {
  const value = record[name];
  return value === undefined || value === null ? undefined : recordOf(value);
}

/** A record with one field set, or removed when `value` is undefined. */
export function withField(record: Values, name: string, value: unknown): Values {
  const out = { ...record };
  if (value === undefined) delete out[name];
  else out[name] = value;
  return out;
}

/** The list of records at `name` (empty when there is none). */
export function listOf(record: Values, name: string): Values[] {
  const items = record[name];
  return Array.isArray(items) ? items.map(recordOf) : [];
}

/** The record with the list at `name` replaced; an empty list leaves the field out. */
export function withList(record: Values, name: string, items: Values[]): Values {
  return withField(record, name, items.length ? items : undefined);
}
