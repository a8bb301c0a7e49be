"""Fails when a CSV file holds a cell that a spreadsheet would evaluate as a formula.

Usage: ``python3 spreadsheet_check.py FILE...``; exits 1 naming each such cell (file, row,
column, text), 0 when there is none.

This is the check LibreOffice Calc applies when it opens a CSV, made stricter and run
without a desktop suite: Calc (like Excel) first undoes the CSV quoting of each field, then
takes a cell whose text starts with ``=`` as a formula, and (in its Excel and Lotus
compatible input) also one starting with ``+``, ``-`` or ``@``; OWASP's CSV injection
guidance adds tab and carriage return, which some importers strip before that test. A cell
that starts with a single quote is text to both. So a file that passes here opens with no
formula in Calc whatever its import options ("Evaluate formulas", "Quoted field as text"),
because the quoting is ignored here rather than trusted. The fields are split by Python's
own ``csv`` module in strict mode, a reader independent of ycm's, and the set of starts is
written out here on purpose rather than taken from ycm's declaration (``FORMULA_STARTS`` in
``src/sync/csv_cell.rs``): the check must not share what it checks.
"""

from __future__ import annotations

import csv
import sys
from typing import List, Tuple

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def formula_cells(path: str) -> List[Tuple[int, int, str]]:
    """Every (row, column, text) of ``path`` that a spreadsheet would evaluate (1-based)."""
    found = []
    with open(path, newline="", encoding="utf-8-sig") as f:
        for row_number, row in enumerate(csv.reader(f, strict=True), start=1):
            for column_number, cell in enumerate(row, start=1):
                if cell.startswith(FORMULA_STARTS):
                    found.append((row_number, column_number, cell))
    return found


def main(paths: List[str]) -> int:
    if not paths:
        print("usage: spreadsheet_check.py FILE...", file=sys.stderr)
        return 2
    bad = 0
    for path in paths:
        for row, column, text in formula_cells(path):
            print(f"{path}: row {row}, column {column}: a formula cell: {text!r}")
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
