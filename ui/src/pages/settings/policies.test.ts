import { describe, expect, it } from "vitest";
import { ApiError } from "../../api/problem";
import { fieldProblem, parsePolicies, policiesSummary, serverProblems } from "./policies";

describe("policiesSummary", () => {
  it("says what each rule that is set does", () => {
    expect(
      policiesSummary({
        caps: [{ limit: 3, per: "1w", channel: "email" }, { limit: 5, per: "1w", channel: null }],
        quiet_hours: { start: "21:00", end: "08:00", channels: ["email"] },
        after_purchase: { event: "order_completed", for: "3d" },
        duplicates: { within: "1d" },
        alert_budget: { per_day: 20 },
        timezone: "Europe/London",
      }),
    ).toEqual([
      "At most 3 marketing email messages per 1w to a contact.",
      "At most 5 marketing messages per 1w to a contact, on all channels together.",
      "No marketing email between 21:00 and 08:00 in the contact's own timezone; it waits until the end.",
      "No marketing for 3d after a contact's order_completed.",
      "A marketing message identical to one the contact got within 1d is dropped.",
      "At most 20 internal alerts a day; the rest wait for the next day.",
      "Days and contacts without a timezone follow Europe/London.",
    ]);
  });
  it("says when no rule is set, and when the JSON is no object", () => {
    expect(policiesSummary({ caps: [], quiet_hours: null, timezone: "UTC" })[0]).toBe(
      "No rule is set: every message goes out as soon as its step is due.",
    );
    expect(policiesSummary([1])[0]).toContain("must be a JSON object");
  });
});

describe("fieldProblem", () => {
  const refused = new ApiError(400, {
    title: "Invalid request",
    status: 400,
    errors: [{ path: "body.sender.from_email", message: "Value error, 'x' is not an email address like news@shop.example" }],
  });
  it("finds the server's words about one field", () => {
    expect(fieldProblem(refused, "sender.from_email")).toBe("'x' is not an email address like news@shop.example");
  });
  it("has nothing to say about another field, or about an error without fields", () => {
    expect(fieldProblem(refused, "sender.from_name")).toBeUndefined();
    expect(fieldProblem(new Error("offline"), "sender.from_email")).toBeUndefined();
  });
});

describe("serverProblems", () => {
  it("names each refused value by its path in the form", () => {
    const refused = new ApiError(400, {
      title: "Invalid request",
      status: 400,
      errors: [{ path: "body.policies.quiet_hours.start", message: "Value error, not a time", hint: "like 21:00" }],
    });
    expect(serverProblems(refused)).toEqual([{ path: "policies.quiet_hours.start", message: "not a time", hint: "like 21:00" }]);
    expect(serverProblems(new Error("offline"))).toEqual([]);
  });
});

describe("parsePolicies", () => {
  it("takes a JSON object, and says why anything else is not policies", () => {
    expect(parsePolicies('{"timezone": "UTC"}')).toEqual({ policies: { timezone: "UTC" } });
    expect(parsePolicies("{")).toHaveProperty("problem", expect.stringContaining("not valid JSON"));
    expect(parsePolicies("[1]")).toHaveProperty("problem", expect.stringContaining("must be a JSON object"));
  });
});
