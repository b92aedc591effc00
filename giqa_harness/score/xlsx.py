"""The first worksheet of an .xlsx file as rows of cell text, with the standard library only.

An .xlsx is a zip of XML parts: ``xl/sharedStrings.xml`` holds the strings, ``xl/worksheets/sheet1.xml``
the cells (``<c r="B2" t="s"><v>3</v></c>``: shared string 3 in column B). SPAQ's MOS spreadsheet is
plain values like that, so no spreadsheet package is needed to read it.
"""

from __future__ import annotations

import re
import zipfile
import xml.etree.ElementTree as ET
from pathlib import Path

from ..errors import DatasetError

_NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
_COLUMN = re.compile(r"([A-Z]+)")


def _column_index(ref: str) -> int:
    letters = _COLUMN.match(ref)
    if letters is None:
        raise ValueError(f"bad cell reference {ref!r}")
    index = 0
    for ch in letters.group(1):
        index = index * 26 + (ord(ch) - 64)
    return index - 1


def read_first_sheet(path: Path) -> list[list[str]]:
    """Every row of the first worksheet, cells as text ('' where empty); errors name the file."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            shared: list[str] = []
            if "xl/sharedStrings.xml" in names:
                root = ET.fromstring(archive.read("xl/sharedStrings.xml"))
                shared = ["".join(t.text or "" for t in si.iter(f"{{{_NS['m']}}}t")) for si in root.findall("m:si", _NS)]
            sheet = "xl/worksheets/sheet1.xml"
            if sheet not in names:
                raise DatasetError(f"{path}: no first worksheet ({sheet}) in the workbook")
            root = ET.fromstring(archive.read(sheet))
    except (zipfile.BadZipFile, ET.ParseError, OSError) as exc:
        raise DatasetError(f"{path}: not a readable .xlsx workbook ({exc})") from None
    rows = []
    for row in root.iter(f"{{{_NS['m']}}}row"):
        cells: dict[int, str] = {}
        for cell in row.findall("m:c", _NS):
            value = cell.find("m:v", _NS)
            inline = cell.find("m:is", _NS)
            if cell.get("t") == "s" and value is not None:
                text = shared[int(value.text or 0)]
            elif inline is not None:
                text = "".join(t.text or "" for t in inline.iter(f"{{{_NS['m']}}}t"))
            else:
                text = value.text or "" if value is not None else ""
            cells[_column_index(cell.get("r", "A"))] = text
        rows.append([cells.get(i, "") for i in range(max(cells) + 1)] if cells else [])
    return rows


def write_sheet(path: Path, rows: list[list[object]]) -> Path:
    """A minimal one-sheet workbook (strings inline, numbers as values); tests write SPAQ's layout with it."""
    def column(i: int) -> str:
        name = ""
        i += 1
        while i:
            i, rest = divmod(i - 1, 26)
            name = chr(65 + rest) + name
        return name

    def cell(ref: str, value: object) -> str:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return f'<c r="{ref}"><v>{value}</v></c>'
        text = str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'

    body = "".join(f'<row r="{r + 1}">' + "".join(cell(f"{column(c)}{r + 1}", v) for c, v in enumerate(row)) + "</row>"
                   for r, row in enumerate(rows))
    sheet = f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{_NS["m"]}"><sheetData>{body}</sheetData></worksheet>'
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
    return path
