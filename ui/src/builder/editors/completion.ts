// Completion in condition fields: what the word at the caret may become, from the
// workspace's schema (GET /api/schema). Pure, so it is tested without a browser.

export interface SchemaNames {
  contact: string[];
  consent: string[];
  events: { name: string; properties: string[] }[];
}

export interface Completion {
  /** Where the word being typed starts and ends in the text. */
  from: number;
  to: number;
  options: string[];
}

/** The roots a condition's field path may start from (core/conditions/ast.py ROOTS). */
export const ROOTS = ["contact", "event", "trigger", "consent", "steps"];
const MAX_OPTIONS = 12;

/** Fields of `event.*` and `trigger.*`: the trigger event's properties when it is known,
 * else every property seen on any event. */
function eventFields(schema: SchemaNames, eventName: string | undefined): string[] {
  const own = schema.events.find((e) => e.name === eventName);
  if (own) return own.properties;
  return [...new Set(schema.events.flatMap((e) => e.properties))].sort();
}

function fieldsOf(root: string, schema: SchemaNames, eventName: string | undefined): string[] {
  if (root === "contact") return schema.contact;
  if (root === "consent") return schema.consent;
  if (root === "event" || root === "trigger") return eventFields(schema, eventName);
  return [];
}

/** Whether a condition can name the field at all (core/conditions/parse.py's words). */
const NAMEABLE = /^[A-Za-z_$][\w$-]*$/;

/** What to offer for the word ending at `caret`; null when nothing fits (inside a string,
 * after a number, or no known name starts so). */
export function complete(text: string, caret: number, schema: SchemaNames, eventName?: string): Completion | null {
  const before = text.slice(0, caret);
  // Inside a quoted string there is nothing to complete.
  if ((before.match(/"/g)?.length ?? 0) % 2 === 1) return null;
  const word = /[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]*)?$/.exec(before);
  if (!word || (word.index > 0 && /[0-9.\]]/.test(before[word.index - 1] ?? ""))) return null;
  const typed = word[0];
  const dot = typed.indexOf(".");
  const to = caret + (/^[A-Za-z0-9_]*/.exec(text.slice(caret))?.[0].length ?? 0);
  if (dot < 0) {
    const options = ROOTS.filter((r) => r.startsWith(typed) && r !== typed).map((r) => `${r}.`);
    return options.length ? { from: word.index, to, options } : null;
  }
  const root = typed.slice(0, dot);
  const prefix = typed.slice(dot + 1).toLowerCase();
  const options = fieldsOf(root, schema, eventName)
    .filter((name) => NAMEABLE.test(name) && name.toLowerCase().startsWith(prefix) && name !== typed.slice(dot + 1))
    .slice(0, MAX_OPTIONS)
    .map((name) => `${root}.${name}`);
  return options.length ? { from: word.index, to, options } : null;
}

/** The text with the completion applied, and where the caret goes. */
export function apply(text: string, completion: Completion, option: string): { text: string; caret: number } {
  const next = text.slice(0, completion.from) + option + text.slice(completion.to);
  return { text: next, caret: completion.from + option.length };
}

/** Whether a live count can mean anything: counts cover contact and consent fields, not the
 * event a journey started with. */
export function countable(condition: string): boolean {
  const outsideStrings = condition.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  return !/\b(event|trigger|steps)\s*[.[]/.test(outsideStrings);
}
