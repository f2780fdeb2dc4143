"""Raw data of a séance: JSON, or CSV with one file per kind in a zip."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Mapping, Sequence
from typing import Any


def to_json(report_meta: Mapping[str, Any], data: Mapping[str, Sequence[Mapping[str, Any]]]
            ) -> bytes:
    return json.dumps({"seance": report_meta, **data}, ensure_ascii=False, indent=2,
                      default=str).encode()


def to_csv_zip(data: Mapping[str, Sequence[Mapping[str, Any]]]) -> bytes:
    """One UTF-8 CSV per kind (with a BOM, so spreadsheet software reads the accents)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for kind, rows in data.items():
            text = io.StringIO()
            if rows:
                writer = csv.DictWriter(text, fieldnames=list(rows[0]))
                writer.writeheader()
                writer.writerows(rows)
            archive.writestr(f"{kind}.csv", "\ufeff" + text.getvalue())
    return buffer.getvalue()
