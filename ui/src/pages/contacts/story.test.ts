import { describe, expect, it } from "vitest";
import { decisions, filterQuery, filtersFrom, filtersToSearch, splitConsent, verdictOf } from "./story";

describe("contact filters", () => {
  it("sends only the filters a person set, trimmed", () => {
    expect(filterQuery({ q: "  ana ", tag: "", segment: "vip" })).toEqual({ q: "ana", segment: "vip" });
    expect(filterQuery({ q: " ", tag: "", segment: "" })).toEqual({});
  });

  it("round-trips through the address bar, escaping what needs it", () => {
    const filters = { q: "a&b=c", tag: "<b>", segment: "" };
    const search = filtersToSearch(filters);
    expect(search).toBe("?q=a%26b%3Dc&tag=%3Cb%3E");
    expect(filtersFrom(search)).toEqual(filters);
    expect(filtersToSearch({ q: "", tag: "", segment: "" })).toBe("");
  });
});

describe("consent", () => {
  it("splits channels from topics", () => {
    expect(splitConsent({ "topic:news": "unsubscribed", sms: "subscribed", email: "subscribed" })).toEqual({
      channels: [
        ["email", "subscribed"],
        ["sms", "subscribed"],
      ],
      topics: [["news", "unsubscribed"]],
    });
  });
});

describe("the why timeline", () => {
  const lines = [
    { at: "1", workflow: "w", step_id: null, action: "enrolled", detail: "" },
    { at: "2", workflow: "w", step_id: "mail", action: "held", detail: "no email marketing consent" },
    { at: "3", workflow: "x", step_id: null, action: "not_enrolled", detail: "entry condition false" },
  ];

  it("tells the decisions that stopped something from the others", () => {
    expect(verdictOf("held")).toBe("why-not");
    expect(verdictOf("not_enrolled")).toBe("why-not");
    expect(verdictOf("branched")).toBe("why");
  });

  it("lists newest first and filters by kind", () => {
    expect(decisions(lines, "all").map((l) => l.at)).toEqual(["3", "2", "1"]);
    expect(decisions(lines, "why-not").map((l) => l.action)).toEqual(["not_enrolled", "held"]);
    expect(decisions(lines, "why").map((l) => l.action)).toEqual(["enrolled"]);
  });
});
