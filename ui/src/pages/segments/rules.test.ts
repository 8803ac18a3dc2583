import { describe, expect, it } from "vitest";
import { conditionOf, fieldPath, keyOf, literal, ruleText } from "./rules";

describe("fields and values", () => {
  it("names contact fields the way the condition language does", () => {
    expect(fieldPath("plan")).toBe("contact.plan");
    expect(fieldPath("contact.plan")).toBe("contact.plan");
    expect(fieldPath("consent.email")).toBe("consent.email");
    expect(fieldPath("plan; drop")).toBeNull();
    expect(fieldPath("contact")).toBeNull();
  });

  it("quotes text and leaves numbers and booleans bare", () => {
    expect(literal("42")).toBe("42");
    expect(literal("-1.5")).toBe("-1.5");
    expect(literal("true")).toBe("true");
    expect(literal('say "hi"')).toBe('"say \\"hi\\""');
    expect(literal("007a")).toBe('"007a"');
    expect(literal("0.5")).toBe("0.5");
  });

  it("keeps numbers with a leading zero, and quoted values, as text", () => {
    // A zip code written bare would be read as 2134 and never match the stored "02134".
    expect(literal("02134")).toBe('"02134"');
    expect(literal("-007")).toBe('"-007"');
    expect(literal('"1"')).toBe('"1"');
  });
});

describe("rules", () => {
  it("writes field rules, null checks and behaviour", () => {
    expect(ruleText({ kind: "field", field: "plan", op: "==", value: "pro" })).toEqual({ text: 'contact.plan == "pro"' });
    expect(ruleText({ kind: "field", field: "phone", op: "is not null", value: "" })).toEqual({ text: "contact.phone is not null" });
    expect(ruleText({ kind: "performed", event: "order_completed", atLeast: 2, withinDays: 30 })).toEqual({
      text: "performed order_completed at least 2 times within 30d",
    });
    expect(ruleText({ kind: "performed", event: "page viewed", atLeast: 1, withinDays: null })).toEqual({
      text: 'performed "page viewed" at least 1 time',
    });
  });

  it("says what is missing instead of writing a broken condition", () => {
    expect(ruleText({ kind: "field", field: "plan", op: ">", value: " " })).toEqual({
      problem: "give contact.plan a value to compare with",
    });
    expect(conditionOf([{ kind: "performed", event: "", atLeast: 1, withinDays: null }], "and")).toEqual({
      problem: "name the event, like order_completed",
      row: 0,
    });
    expect(conditionOf([], "and")).toEqual({ problem: "add a rule", row: 0 });
  });

  it("joins rules with and or or", () => {
    const rules = [
      { kind: "field" as const, field: "plan", op: "==" as const, value: "pro" },
      { kind: "field" as const, field: "score", op: ">=" as const, value: "10" },
    ];
    expect(conditionOf(rules, "or")).toEqual({ condition: 'contact.plan == "pro" or contact.score >= 10' });
  });

  it("makes a key from a name", () => {
    expect(keyOf("Pro buyers (EU)")).toBe("pro_buyers_eu");
  });
});
