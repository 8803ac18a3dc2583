import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { bars, SizeChartView } from "./SizeChart";

describe("SizeChart", () => {
  it("draws a bar per day refreshed, scaled to the largest, with a gap for a day missed", () => {
    const drawn = bars([
      { day: "2026-12-01", size: 10 },
      { day: "2026-12-02", size: 20 },
      { day: "2026-12-04", size: 5 },
    ]);
    expect(drawn.map((b) => [b.x, b.height])).toEqual([
      [0, 32],
      [75, 64],
      [225, 16],
    ]);
  });

  it("says when there is not yet enough to draw", () => {
    const { container } = render(<SizeChartView history={[{ day: "2026-12-01", size: 3 }]} />);
    expect(container.querySelector("svg")).toBeNull();
    expect(screen.getByText(/fills in from tomorrow/)).toBeTruthy();
  });

  it("names each day's size", () => {
    const { container } = render(<SizeChartView history={[{ day: "2026-12-01", size: 3 }, { day: "2026-12-02", size: 4 }]} />);
    expect([...container.querySelectorAll("rect title")].map((t) => t.textContent)).toEqual(["2026-12-01: 3", "2026-12-02: 4"]);
  });
});
