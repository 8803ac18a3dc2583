import { describe, expect, it } from "vitest";
import { count, duration, fromNow, percent, plain, points, propertyPairs, rate, ratePercent } from "./format";

describe("rates", () => {
  it("divides a part by its whole", () => {
    expect(rate(1, 4)).toBe(0.25);
    expect(ratePercent(1, 8)).toBe("12.5%");
    expect(ratePercent(3, 3)).toBe("100.0%");
  });

  it("is never above 100%: a part larger than its whole is not a rate", () => {
    expect(rate(5, 4)).toBeNull();
    expect(ratePercent(5, 4)).toBe("—");
  });

  it("has no value without a whole, or with a negative part", () => {
    expect(ratePercent(0, 0)).toBe("—");
    expect(rate(-1, 3)).toBeNull();
    expect(rate(Number.NaN, 3)).toBeNull();
  });

  it("keeps small rates visible instead of rounding them to zero", () => {
    expect(percent(0.0004)).toBe("0.04%");
    expect(percent(0)).toBe("0.0%");
  });

  it("signs differences in percentage points", () => {
    expect(points(0.031)).toBe("+3.1 pp");
    expect(points(-0.02)).toBe("−2.0 pp");
    expect(points(null)).toBe("—");
  });
});

describe("numbers and moments", () => {
  it("groups thousands and shows fractional credit with two decimals", () => {
    expect(count(12345)).toBe("12,345");
    expect(count(1.5)).toBe("1.50");
  });

  it("says how far a deadline is", () => {
    const now = new Date("2026-12-05T10:00:00Z");
    expect(fromNow("2026-12-07T10:00:00Z", now)).toBe("in 2 days");
    expect(fromNow("2026-12-05T07:00:00Z", now)).toBe("3 hours ago");
    expect(fromNow("2026-12-05T10:00:20Z", now)).toBe("in less than a minute");
    expect(fromNow("2026-12-07T09:59:00Z", now)).toBe("in 47 hours");
  });

  it("writes durations in the unit that reads best", () => {
    expect(duration(600)).toBe("10 min");
    expect(duration(5400)).toBe("1.5 h");
    expect(duration(172800)).toBe("2.0 d");
  });

  it("shows any value as text", () => {
    expect(plain("<b>x</b>")).toBe("<b>x</b>");
    expect(plain({ a: 1 })).toBe('{"a":1}');
    expect(plain(null)).toBe("—");
  });
});

describe("money differences", () => {
  it("are signed amounts, not percentage points", async () => {
    const { signedMoney } = await import("./format");
    expect(signedMoney(5.956)).toBe("+5.96");
    expect(signedMoney(-1)).toBe("−1.00");
  });
});

describe("propertyPairs", () => {
  it("reads an event's properties as names and values, not JSON", () => {
    expect(
      propertyPairs({ cart_id: "c6", value: 24.38, items: [{ sku: "SKU-567", name: "canvas tote" }], note: "<b>x</b>" }),
    ).toEqual([
      ["cart_id", "c6"],
      ["value", "24.38"],
      ["items", "sku SKU-567, name canvas tote"],
      ["note", "<b>x</b>"],
    ]);
    expect(propertyPairs({ tags: ["a", "b", "c"], empty: [], gone: null })).toEqual([
      ["tags", "3 items: a, …"],
      ["empty", "none"],
      ["gone", "—"],
    ]);
  });
});
