"""The report's charts: geometry from numbers, and the SVG the report page writes from it."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tidings.reporting import charts
from tidings.reporting.charts import Chart
from tidings.reporting.html import _ENV

# The report template's own chart macros (the part before the page), in the report's
# environment, so its autoescaping is what is tested.
_SOURCE = _ENV.loader.get_source(_ENV, "report.html.j2")[0] if _ENV.loader else ""
_MACROS = _ENV.from_string(_SOURCE.split("<!doctype html>")[0]).module


def svg(macro: str, chart: Chart) -> ET.Element:
    """The chart as the report writes it, parsed as XML: a malformed SVG fails here."""
    written = str(getattr(_MACROS, macro)(chart))
    return ET.fromstring(written)


def texts(element: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in element.iter("text")]


HOSTILE = "<script>alert('x')</script> & \"Ann's\" <b>"


# --- funnel ---------------------------------------------------------------------------------


def test_funnel_bars_are_proportional_with_shares_of_the_stage_named() -> None:
    chart = charts.funnel([("entered", 200, None), ("sent", 100, None), ("opened", 25, 1)])
    entered, sent, opened = chart.bars
    assert sent.width == pytest.approx(entered.width / 2)
    assert opened.width == pytest.approx(entered.width / 8)
    assert [b.value for b in chart.bars] == ["200", "100", "25 (25% of sent)"]
    assert entered.y < sent.y < opened.y  # one row per stage, top down
    assert chart.height >= opened.y + opened.height


def test_funnel_with_nothing_yet_draws_thin_bars_and_no_shares() -> None:
    # A new workflow: every stage zero. No division by zero, each bar still visible.
    chart = charts.funnel([("entered", 0, None), ("sent", 0, None), ("opened", 0, 1)])
    assert [b.width for b in chart.bars] == [1, 1, 1]
    assert [b.value for b in chart.bars] == ["0", "0", "0"]  # no "(0% of sent)"


def test_funnel_counts_are_written_with_thousands_separators() -> None:
    [bar] = charts.funnel([("entered", 1234567, None)]).bars
    assert bar.value == "1,234,567"


def test_funnel_svg_is_well_formed_and_labels_are_text_not_markup() -> None:
    chart = charts.funnel([(HOSTILE, 10, None), ("sent", 5, 0)])
    element = svg("svg_bars", chart)
    assert element.tag == "svg"
    assert HOSTILE in texts(element)  # written as text, read back exactly
    assert not list(element.iter("script")) and not list(element.iter("b"))
    assert len(list(element.iter("rect"))) == 2


def test_an_empty_funnel_is_an_empty_svg() -> None:
    element = svg("svg_bars", charts.funnel([]))
    assert element.tag == "svg" and len(element) == 0


# --- daily ------------------------------------------------------------------------------------


def points(line: charts.Line) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in (p.split(",") for p in line.points.split())]


def test_daily_lines_have_a_point_per_day_on_an_axis_from_zero() -> None:
    chart = charts.daily(
        ["03-01", "03-02", "03-03"], [("sent", [0, 50, 100]), ("clicked", [0, 5, 10])]
    )
    sent, clicked = chart.lines
    assert [label for _, label in chart.legend] == ["sent", "clicked"]
    xs = [x for x, _ in points(sent)]
    assert xs == sorted(xs) and len(xs) == 3
    (_, y0), (_, y50), (_, y100) = points(sent)
    assert y0 > y50 > y100  # higher values higher up (SVG's y grows downwards)
    assert y0 - y50 == pytest.approx(y50 - y100)  # a linear axis
    assert points(clicked)[0][1] == y0  # zero is zero for every series
    assert [label for _, label in chart.ticks] == ["0", "50", "100"]


def test_daily_percent_axis_reads_in_percent() -> None:
    chart = charts.daily(["03-01", "03-02"], [("click rate", [0.1, 0.5])], percent=True)
    assert [label for _, label in chart.ticks] == ["0%", "25%", "50%"]


@pytest.mark.parametrize(
    ("top", "labels"),
    [
        (3, ["0", "1.5", "3"]),  # the middle of 3 is 1.5, not "2"
        (1, ["0", "0.5", "1"]),  # nor "0"
        (0, ["0", "0.5", "1"]),  # all zero: an axis to 1
        (1000, ["0", "500", "1,000"]),
    ],
)
def test_daily_tick_labels_say_where_they_stand(top: int, labels: list[str]) -> None:
    chart = charts.daily(["03-01", "03-02"], [("sent", [0, top])])
    assert [label for _, label in chart.ticks] == labels


def test_daily_with_one_day_and_with_none() -> None:
    [line] = charts.daily(["03-01"], [("sent", [4])]).lines
    assert len(points(line)) == 1
    empty = charts.daily([], [("sent", [])])
    assert empty.lines == [] and empty.ticks == []
    assert svg("svg_lines", empty).tag == "svg"


def test_daily_svg_is_well_formed_and_legend_labels_are_text() -> None:
    element = svg("svg_lines", charts.daily(["03-01", "03-02"], [(HOSTILE, [1, 2])]))
    assert HOSTILE in texts(element)
    assert len(list(element.iter("polyline"))) == 1


# --- intervals ----------------------------------------------------------------------------------


def test_intervals_share_one_axis_through_zero_coloured_by_their_side() -> None:
    chart = charts.intervals(
        [
            ("better", 0.05, 0.01, 0.09, "+5.0%"),  # all above zero
            ("worse", -0.04, -0.07, -0.01, "-4.0%"),  # all below
            ("unclear", 0.01, -0.02, 0.04, "+1.0%"),  # straddles zero
        ]
    )
    better, worse, unclear = chart.intervals
    assert chart.zero is not None
    assert chart.zero < better.low < better.point < better.high
    assert worse.low < worse.point < worse.high < chart.zero
    assert unclear.low < chart.zero < unclear.high
    assert better.color == charts.PALETTE[1]  # green
    assert worse.color == charts.PALETTE[3]  # red
    assert unclear.color not in (charts.PALETTE[1], charts.PALETTE[3])
    assert [label for _, label in chart.ticks] == ["-0.07", "+0", "+0.09"]


def test_intervals_all_on_one_side_have_one_tick_at_zero() -> None:
    chart = charts.intervals([("better", 0.05, 0.01, 0.09, "+5.0%")])
    assert [label for _, label in chart.ticks] == ["+0", "+0.09"]


def test_an_interval_of_width_zero_at_zero_draws_without_dividing_by_zero() -> None:
    chart = charts.intervals([("flat", 0.0, 0.0, 0.0, "+0.0%")])
    [row] = chart.intervals
    assert row.low == row.high == row.point == chart.zero


def test_intervals_svg_is_well_formed_and_labels_are_text() -> None:
    chart = charts.intervals([(HOSTILE, 0.05, 0.01, 0.09, "+5.0% <&>")])
    element = svg("svg_intervals", chart)
    assert HOSTILE in texts(element) and "+5.0% <&>" in texts(element)
    assert svg("svg_intervals", charts.intervals([])).tag == "svg"


# --- grouped ----------------------------------------------------------------------------------


def test_grouped_bars_stand_on_one_baseline_in_proportion() -> None:
    chart = charts.grouped(["welcome", "cart"], [("first touch", [100, 50]), ("linear", [80, 0])])
    first_welcome, first_cart, linear_welcome, linear_cart = chart.bars
    baseline = first_welcome.y + first_welcome.height
    for bar in chart.bars:
        assert bar.y + bar.height == pytest.approx(baseline)
    assert first_cart.height == pytest.approx(first_welcome.height / 2)
    assert linear_cart.height == 0
    assert first_welcome.x < linear_welcome.x < first_cart.x < linear_cart.x  # grouped by workflow
    assert [b.label for b in chart.bars] == ["welcome", "cart", "", ""]  # each group named once
    assert [label for _, label in chart.legend] == ["first touch", "linear"]


def test_grouped_with_no_groups_or_no_series_is_empty() -> None:
    assert charts.grouped([], [("linear", [])]).bars == []
    assert charts.grouped(["welcome"], []).bars == []
    assert svg("svg_grouped", charts.grouped([], [])).tag == "svg"


def test_grouped_svg_is_well_formed_and_names_are_text() -> None:
    element = svg("svg_grouped", charts.grouped([HOSTILE], [("linear", [3.0])]))
    assert HOSTILE in texts(element)
    assert ["".join(t.itertext()) for t in element.iter("title")] == ["3"]


def rect_sizes(element: ET.Element) -> list[float]:
    """Every width and height the SVG gives a rectangle, as numbers."""
    return [float(r.attrib[a]) for r in element.iter("rect") for a in ("width", "height")]


def test_a_refund_hangs_below_the_zero_line_and_no_rectangle_has_a_negative_size() -> None:
    # A workflow whose refunds exceed its sales in the period: negative attributed revenue.
    chart = charts.grouped(
        ["welcome", "winback"], [("first touch", [300.0, -120.0]), ("linear", [150.0, -60.0])]
    )
    element = svg("svg_grouped", chart)
    assert all(size >= 0 for size in rect_sizes(element))
    [zero] = [y for y, label in chart.ticks if label == "0"]
    first_welcome, first_winback, linear_welcome, linear_winback = chart.bars
    # Sales stand on the zero line, refunds hang from it, both in proportion.
    assert first_welcome.y + first_welcome.height == pytest.approx(zero)
    assert first_winback.y == pytest.approx(zero) and linear_winback.y == pytest.approx(zero)
    assert first_winback.height == pytest.approx(first_welcome.height * 120 / 300)
    assert linear_welcome.height == pytest.approx(first_welcome.height / 2)
    assert linear_winback.height == pytest.approx(first_winback.height / 2)
    assert [b.value for b in chart.bars] == ["300", "-120", "150", "-60"]
    # The axis reaches down to the largest refund, and every bar stays inside the chart.
    assert [label for _, label in chart.ticks] == ["-120", "0", "300"]
    assert all(b.y >= 0 and b.y + b.height <= chart.height for b in chart.bars)


@given(values=st.lists(st.integers(-(10**9), 10**9), min_size=1, max_size=5))
@settings(max_examples=60, deadline=None)
def test_grouped_bars_of_any_sign_have_no_negative_size(values: list[int]) -> None:
    chart = charts.grouped([f"w{i}" for i in range(len(values))], [("linear", values)])
    assert all(size >= 0 for size in rect_sizes(svg("svg_grouped", chart)))
    assert all(b.y >= 0 and b.y + b.height <= chart.height for b in chart.bars)


# --- any names, any numbers ---------------------------------------------------------------------

#: Names a person could give a workflow or variant (XML cannot carry control characters).
names = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=30)
counts = st.integers(0, 10**9)
Builder = Callable[[list[str], list[int]], tuple[str, Chart]]


@pytest.mark.parametrize(
    "build",
    [
        lambda n, v: ("svg_bars", charts.funnel([(a, b, 0) for a, b in zip(n, v, strict=False)])),
        lambda n, v: (
            "svg_lines",
            charts.daily([str(i) for i in range(len(v))], [(a, v) for a in n]),
        ),
        lambda n, v: ("svg_grouped", charts.grouped(n, [("linear", v[: len(n)])])),
        lambda n, v: (
            "svg_intervals",
            charts.intervals(
                [
                    (a, b / 1e9, b / 1e9 - 0.1, b / 1e9 + 0.1, f"{b}")
                    for a, b in zip(n, v, strict=False)
                ]
            ),
        ),
    ],
)
@given(labels=st.lists(names, max_size=5), values=st.lists(counts, min_size=5, max_size=5))
@settings(max_examples=40, deadline=None)
def test_every_chart_is_well_formed_svg_with_its_labels_as_written(
    build: Builder, labels: list[str], values: list[int]
) -> None:
    macro, chart = build(labels, values)
    element = svg(macro, chart)
    written = texts(element)
    for label in filter(None, labels):  # an empty group name draws no text
        # XML reads a carriage return as a line feed; everything else comes back as given.
        assert label.replace("\r\n", "\n").replace("\r", "\n") in written
