// An audit log entry as a sentence a person reads ("paused workflow welcome"), the few facts
// worth a glance, and the workflow diff when there is one: not the request's raw JSON.

export interface AuditEntry {
  action: string;
  subject_type: string;
  subject_key: string;
  details: Record<string, unknown>;
}

/** What the request was, kept for machines: said by the sentence, or noise to a person. */
const HIDDEN = new Set(["method", "path", "params", "diff", "version", "created_version", "published", "draft"]);

function text(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number") return value.toLocaleString("en-US");
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (value === null || value === undefined) return "—";
  return JSON.stringify(value);
}

function article(word: string): string {
  return /^[aeiou]/i.test(word) ? "an" : "a";
}

/** The change in words, after the person's name: "published workflow welcome as version 3". */
export function auditSentence(entry: AuditEntry): string {
  const key = entry.subject_key;
  const d = entry.details;
  const version = typeof d.version === "number" ? d.version : null;
  const workflow = `workflow ${key}`;
  const role = typeof d.role === "string" ? d.role : "";
  const known: Record<string, () => string> = {
    "session.login": () => "logged in",
    "session.logout": () => "logged out",
    "session.switch_workspace": () => "switched to this workspace",
    "workflows.create": () =>
      d.created_version === false
        ? `deployed ${workflow} unchanged (still version ${version ?? "?"})`
        : `deployed ${workflow}${version ? ` as version ${version}` : ""}`,
    "workflows.save": () => `saved a draft of ${workflow}`,
    "workflows.discard": () => `discarded the draft of ${workflow}`,
    "workflows.publish": () =>
      d.created_version === false
        ? `published ${workflow} unchanged (still version ${version ?? "?"})`
        : `published ${workflow}${version ? ` as version ${version}` : ""}`,
    "workflows.pause": () => `paused ${workflow}`,
    "workflows.activate": () => `resumed ${workflow}`,
    "workflows.archive": () => `archived ${workflow}`,
    "workflows.plan_migration": () => `moved journeys of ${workflow} to another version`,
    "segments.put": () => `saved segment ${key}`,
    "segments.remove": () => `deleted segment ${key}`,
    "forms.put": () => `saved form ${key}`,
    "keys.create": () => `created ${article(text(d.kind))} ${text(d.kind)} key${key ? ` ${key}…` : ""}`,
    "keys.revoke": () => `revoked key #${key}`,
    "people.invite": () => `${d.invited === false ? "added" : "invited"} ${key || "a person"}${role ? ` as ${article(role)} ${role}` : ""}`,
    "people.change_role": () => `made ${key}${role ? ` ${article(role)} ${role}` : " change role"}`,
    "people.remove": () => `removed ${key} from the workspace`,
    "contacts.update": () => `updated contact #${key}`,
    "contacts.erase": () => `erased contact #${key}`,
    "contacts.merge": () => `merged contacts into #${key}`,
    "approvals.approve": () => `approved approval #${key}`,
    "approvals.reject": () => `rejected approval #${key}`,
    "delivery.put_settings": () => "changed the delivery settings",
    "delivery.reveal_webhook_secret": () => "revealed the webhook signing secret",
    "delivery.add_suppression": () => `suppressed ${key}`,
    "delivery.remove_suppression": () => `lifted the suppression of ${key}`,
    "delivery.report_bounce": () => "recorded a bounce",
    "scoring.put_scoring": () => "changed the lead scoring",
    "blueprints.use": () => `made a workflow from blueprint ${key}`,
  };
  const said = known[entry.action];
  if (said) return said();
  // An action this console does not know yet: its own words, still readable.
  const [, endpoint = entry.action] = entry.action.split(".");
  return `${endpoint.replaceAll("_", " ")} ${entry.subject_type}${key ? ` ${key}` : ""}`;
}

/** The details worth showing beside the sentence, as label and value. */
export function auditFacts(details: Record<string, unknown>): [string, string][] {
  return Object.entries(details)
    .filter(([name]) => !HIDDEN.has(name))
    .map(([name, value]) => [name.replaceAll("_", " "), text(value)]);
}

/** The workflow diff an entry carries, and how many lines it adds and takes away. */
export function auditDiff(details: Record<string, unknown>): { text: string; added: number; removed: number } | null {
  const diff = details.diff;
  if (typeof diff !== "string" || diff === "") return null;
  const lines = diff.split("\n");
  const added = lines.filter((l) => l.startsWith("+") && !l.startsWith("+++")).length;
  const removed = lines.filter((l) => l.startsWith("-") && !l.startsWith("---")).length;
  return { text: diff, added, removed };
}
