"""CSV cells a spreadsheet would run as formulas are made inert (OWASP's CSV injection rule)."""

import csv
import io

import pytest

from common.spreadsheets import csv_write, spreadsheet_safe


@pytest.mark.parametrize(
    "text",
    ['=HYPERLINK("http://x","y")', "+81 242 00 0000", "-2+3", "@SUM(A1:A2)", "\t=1+1", "\r=1+1"],
)
def test_a_text_cell_starting_like_a_formula_gets_a_quote(text):
    assert spreadsheet_safe(text) == "'" + text


@pytest.mark.parametrize("value", ["鶴城小学校", "<5", "x", "", "a=b", 12, -3, 11.5, None])
def test_other_cells_are_left_alone(value):
    assert spreadsheet_safe(value) == value


def test_the_header_and_every_row_are_made_safe():
    stream = io.StringIO()

    csv_write(stream, ["=name", "count"], [["@cmd", -1], ["ok", 2]])

    assert list(csv.reader(io.StringIO(stream.getvalue()))) == [["'=name", "count"], ["'@cmd", "-1"], ["ok", "2"]]
