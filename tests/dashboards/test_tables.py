"""The CSV export of a table, as a spreadsheet opens it."""

import csv
import io

from dashboards.tables import Cell, Table


def test_a_comment_that_looks_like_a_formula_stays_text_in_the_csv_and_numbers_stay_numbers():
    table = Table(
        name="comments",
        title="Latest comments",
        columns=["Comment", "Rating", "Change"],
        rows=[
            [Cell('=HYPERLINK("http://evil.example","x")', "…"), Cell(5, "5"), Cell("-2.50", "")],
            [Cell("@SUM(A1)", "…"), Cell(None, "—"), Cell("+1", "")],
        ],
    )

    rows = list(csv.reader(io.StringIO(table.csv())))

    assert rows[1] == ['\'=HYPERLINK("http://evil.example","x")', "5", "-2.50"]
    assert rows[2] == ["'@SUM(A1)", "", "+1"]
