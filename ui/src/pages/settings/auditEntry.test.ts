import { describe, expect, it } from "vitest";
import { auditDiff, auditFacts, auditSentence, type AuditEntry } from "./auditEntry";

const entry = (action: string, subject_key: string, details: Record<string, unknown> = {}): AuditEntry => ({
  action,
  subject_type: action.split(".")[0] ?? "",
  subject_key,
  details: { method: "POST", path: "/x", ...details },
});

describe("auditSentence", () => {
  it("says what happened to a workflow, with its version", () => {
    expect(auditSentence(entry("workflows.create", "handoff", { version: 2, created_version: true }))).toBe(
      "deployed workflow handoff as version 2",
    );
    expect(auditSentence(entry("workflows.create", "handoff", { version: 2, created_version: false }))).toBe(
      "deployed workflow handoff unchanged (still version 2)",
    );
    expect(auditSentence(entry("workflows.publish", "welcome", { version: 3, created_version: true, published: true }))).toBe(
      "published workflow welcome as version 3",
    );
    expect(auditSentence(entry("workflows.pause", "welcome"))).toBe("paused workflow welcome");
    expect(auditSentence(entry("workflows.activate", "welcome"))).toBe("resumed workflow welcome");
  });
  it("names the person and role of a people change, and a key by its prefix", () => {
    expect(auditSentence(entry("people.invite", "vic@example.com", { role: "viewer", invited: true }))).toBe(
      "invited vic@example.com as a viewer",
    );
    expect(auditSentence(entry("people.change_role", "vic@example.com", { role: "approver" }))).toBe(
      "made vic@example.com an approver",
    );
    expect(auditSentence(entry("keys.create", "tdw_OpQEMH", { kind: "write" }))).toBe("created a write key tdw_OpQEMH…");
    expect(auditSentence(entry("session.login", ""))).toBe("logged in");
  });
  it("reads an action it does not know in the server's own words", () => {
    expect(auditSentence(entry("widgets.spin_up", "w1"))).toBe("spin up widgets w1");
  });
});

describe("auditFacts", () => {
  it("keeps what a person reads and drops the request's plumbing", () => {
    const facts = auditFacts({ method: "POST", path: "/a", params: { key: "x" }, diff: "…", version: 2, comment: "call her", step_id: "ask" });
    expect(facts).toEqual([
      ["comment", "call her"],
      ["step id", "ask"],
    ]);
  });
});

describe("auditDiff", () => {
  it("counts the lines a version added and took away", () => {
    const diff = "--- version 1\n+++ version 2\n@@ -1 +1 @@\n-timeout: 2d\n+timeout: 3d\n+note: x\n";
    expect(auditDiff({ diff })).toEqual({ text: diff, added: 2, removed: 1 });
    expect(auditDiff({})).toBeNull();
  });
});
