"""The small-cell rule: primary "<5", and complementary hiding so no hidden cell can be worked out."""

import random

from surveys.suppression import SMALL, THRESHOLD, Line, line_is_safe, protect, suppress


def _table(grid: list[list[int]]):
    """Cells, row and column totals and the grand total of a grid, and its lines."""
    values = {}
    for r, row in enumerate(grid):
        for c, value in enumerate(row):
            values[(r, c)] = value
        values[("row", r)] = sum(row)
    for c in range(len(grid[0])):
        values[("col", c)] = sum(row[c] for row in grid)
    values[("all",)] = sum(map(sum, grid))
    lines = [Line([(r, c) for c in range(len(grid[0]))], ("row", r)) for r in range(len(grid))]
    lines += [Line([(r, c) for r in range(len(grid))], ("col", c)) for c in range(len(grid[0]))]
    lines.append(Line([("row", r) for r in range(len(grid))], ("all",)))
    lines.append(Line([("col", c) for c in range(len(grid[0]))], ("all",)))
    return values, lines


def test_suppress_shows_small_counts_as_less_than_five_and_keeps_zero_and_five():
    assert [suppress(n) for n in (0, 1, 4, 5, 120)] == [0, "<5", "<5", 5, 120]
    assert suppress(2, threshold=3) == "<3"


def test_a_lone_hidden_cell_in_a_row_with_a_shown_total_gets_a_partner():
    # Shelter A: 3 on day 1, 10 on day 2, 20 on day 3; the row total 33 is shown. Without a
    # partner, 33 - 10 - 20 = 3 would give the hidden cell back.
    values, lines = _table([[3, 10, 20], [12, 15, 30]])
    primary, complementary = protect(values, lines)
    hidden = primary | complementary
    assert primary == {(0, 0)}
    assert (0, 1) in complementary  # the smallest other cell of the row
    for line in lines:
        assert line_is_safe(hidden, line), line.members()


def test_every_line_with_a_hidden_member_has_at_least_two_over_random_tables():
    generator = random.Random(4)
    for _round in range(300):
        rows, columns = generator.randint(1, 7), generator.randint(1, 7)
        grid = [[generator.choice([0, 0, 1, 2, 3, 4, 5, 6, 9, 20]) for _c in range(columns)] for _r in range(rows)]
        values, lines = _table(grid)
        primary, complementary = protect(values, lines)
        hidden = primary | complementary
        assert {key for key, value in values.items() if 0 < value < 5} <= primary
        assert all(values[key] > 0 for key in complementary), "zeros are never chosen as partners"
        assert all(values[key] >= THRESHOLD for key in complementary), "a partner shown as x is never small"
        for line in lines:
            assert line_is_safe(hidden, line), (grid, line.members())


def test_a_hidden_cell_whose_other_cells_are_zero_hides_the_total():
    values = {"a": 2, "b": 0, "c": 0, "total": 2}
    primary, complementary = protect(values, [Line(["a", "b", "c"], "total")])
    assert primary == {"a", "total"}
    assert complementary == set()
    values = {"a": 2, "b": 0, "total": 9, "other": 7}
    # "other" is the only non-zero shown cell: it is hidden rather than the total.
    primary, complementary = protect(values, [Line(["a", "b", "other"], "total")])
    assert complementary == {"other"}


def test_a_cell_hidden_only_to_protect_another_is_never_a_small_one():
    """A partner is shown as "x", not "<5": it must really be 5 or more, and never also primary."""
    values, lines = _table([[3, 10, 20], [4, 15, 30], [12, 6, 7]])
    primary, complementary = protect(values, lines)

    assert primary == {(0, 0), (1, 0)}
    assert complementary, "this table needs partners"
    assert not primary & complementary
    assert all(values[key] >= THRESHOLD for key in complementary)
    assert {suppress(values[key]) for key in primary} == {SMALL}
