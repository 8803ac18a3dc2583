import { describe, expect, it } from "vitest";
import { figuresCaption, figuresQuery, periodProblem } from "./figuresQuery";

describe("figuresQuery", () => {
  it("asks for one version over a period", () => {
    expect(figuresQuery({ version: 2, since: "2026-03-01", until: "2026-03-31" })).toEqual({
      version: 2,
      since: "2026-03-01",
      until: "2026-03-31",
    });
  });
  it("leaves out open ends and 'all versions'", () => {
    expect(figuresQuery({ version: "all", since: "", until: "" })).toEqual({});
    expect(figuresQuery({ version: "all", since: "2026-03-01", until: "" })).toEqual({ since: "2026-03-01" });
  });
});

describe("periodProblem", () => {
  it("names both days when the end is before the start", () => {
    expect(periodProblem("2026-03-10", "2026-03-01")).toContain('"To" (2026-03-01) is before "From" (2026-03-10)');
  });
  it("accepts a one-day period and open ends", () => {
    expect(periodProblem("2026-03-10", "2026-03-10")).toBeNull();
    expect(periodProblem("", "2026-03-01")).toBeNull();
  });
});

describe("figuresCaption", () => {
  it("says which journeys and which days are counted", () => {
    expect(figuresCaption({ version: 1, since: "", until: "" })).toBe("Journeys on version 1, all time (UTC days).");
    expect(figuresCaption({ version: "all", since: "2026-03-01", until: "2026-03-07" })).toBe(
      "Journeys on all versions, from 2026-03-01 to 2026-03-07 (UTC days).",
    );
    expect(figuresCaption({ version: 3, since: "2026-03-01", until: "" })).toBe("Journeys on version 3, since 2026-03-01 (UTC days).");
  });
});
