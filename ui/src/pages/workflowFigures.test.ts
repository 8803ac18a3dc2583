import { describe, expect, it } from "vitest";
import { moment } from "./common/format";
import { type ListedFigures, figureCells, nobodyEntered } from "./workflowFigures";

const WELCOME: ListedFigures = {
  in_journey: 1234,
  entered: 8,
  converted: 5,
  entered_converted: 2,
  last_entered_at: "2026-12-05T09:30:00Z",
  has_goal: true,
};

describe("figureCells", () => {
  it("formats counts like the rest of the console and rates the period's entrants", () => {
    expect(figureCells(WELCOME)).toEqual({
      inJourney: "1,234",
      entered: "8",
      converted: "5",
      conversion: "25.0%",
      lastEntry: moment("2026-12-05T09:30:00Z"),
    });
  });

  it("never shows a rate above 100% when conversions outnumber the period's entrants", () => {
    // Five converted this month, but only one of this month's entrants entered and converted.
    const cells = figureCells({ ...WELCOME, entered: 1, entered_converted: 1, converted: 5 });
    expect(cells.converted).toBe("5");
    expect(cells.conversion).toBe("100.0%");
  });

  it("shows no rate without entrants, and none without a goal", () => {
    expect(figureCells({ ...WELCOME, entered: 0, entered_converted: 0 }).conversion).toBe("—");
    const goalless = figureCells({ ...WELCOME, has_goal: false });
    expect([goalless.converted, goalless.conversion]).toEqual(["—", "no goal"]);
  });

  it("says when nobody entered in the period, and dashes when there are no figures", () => {
    expect(figureCells({ ...WELCOME, last_entered_at: null }).lastEntry).toBe("none");
    expect(Object.values(figureCells(null))).toEqual(["—", "—", "—", "—", "—"]);
  });
});

describe("nobodyEntered", () => {
  it("is true only when figures came back and every workflow had no entry", () => {
    const quiet = { figures: { ...WELCOME, entered: 0 } };
    expect(nobodyEntered([quiet, quiet])).toBe(true);
    expect(nobodyEntered([quiet, { figures: WELCOME }])).toBe(false);
    expect(nobodyEntered([{ figures: null }])).toBe(false);
    expect(nobodyEntered([])).toBe(false);
  });
});
