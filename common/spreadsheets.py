"""CSV that is safe to open in a spreadsheet.

A cell starting with = + - @, a tab or a carriage return is read by Excel and LibreOffice as a
formula: a shelter named `=HYPERLINK("http://x","y")` would become a live link in HQ's export.
OWASP's rule: such a text cell is prefixed with a single quote, which shows it as text.
Numbers are written as they are (a negative count is not a formula).
"""

import csv

from django.http import HttpResponse

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value):
    """The value, with a text cell that a spreadsheet would run as a formula made inert."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_write(stream, header: list, rows: list[list]) -> None:
    """Write a header and rows to `stream` (an HttpResponse or a file), every cell made safe."""
    writer = csv.writer(stream)
    writer.writerow([spreadsheet_safe(value) for value in header])
    writer.writerows([[spreadsheet_safe(value) for value in row] for row in rows])


def csv_response(filename: str, header: list, rows: list[list]) -> HttpResponse:
    """A CSV download: a BOM first, so that Excel opens the Japanese as UTF-8, then `csv_write`."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")
    csv_write(response, header, rows)
    return response
