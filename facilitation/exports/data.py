"""Raw data of a séance: JSON, or CSV with one file per kind in a zip; each question's and
each vote's totals beside the raw rows; and the agree/disagree/pass votes as Pol.is
exports them, which other civic-tech tools read."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import zipfile
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from facilitation.tallies import ChoiceResults, MatrixResults, RankingResults, Results

Rows = Sequence[Mapping[str, Any]]
# Columns stored as JSON text: given as JSON values in the JSON export.
JSON_COLUMNS = {"answers": ("value",), "questions": ("settings",), "steps": ("settings",),
                "card_entries": ("value",), "card_corrections": ("before", "after")}
FORMULA = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"[+-]?\d+(\.\d+)?([eE][+-]?\d+)?")
VOTE_COLUMNS = ("step_id", "method", "item_kind", "item_id", "voters", "agree", "disagree",
                "passes", "points", *(f"grade_{g}" for g in range(7)))
TOTAL_COLUMNS = ("question_id", "question", "kind", "n", "option", "level", "count",
                 "percent", "points", "mean_rank", "mean", "median")


def to_json(report_meta: Mapping[str, Any], data: Mapping[str, Rows],
            results: Sequence[Results] = (), votes: Rows | None = None) -> bytes:
    """`votes`: the votes' totals when the votes themselves are gone (a purged séance keeps
    them frozen); else they are counted from the rows."""
    return json.dumps({"seance": report_meta, **decoded(data),
                       "totals": {"questions": question_totals(results),
                                  "votes": list(vote_totals(data) if votes is None
                                                else votes)}},
                      ensure_ascii=False, indent=2, default=str).encode()


def to_csv_zip(data: Mapping[str, Rows], results: Sequence[Results] = (),
               votes: Rows | None = None) -> bytes:
    """One UTF-8 CSV per kind (with a BOM, so spreadsheet software reads the accents), the
    totals, and the Pol.is layout in its own folder."""
    comments, polis_votes = polis(data)
    files: dict[str, Rows] = {**data, "question_totals": question_totals(results),
                              "vote_totals": vote_totals(data) if votes is None else votes,
                              "polis/comments": comments, "polis/votes": polis_votes}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for kind, rows in files.items():
            text = io.StringIO()
            fields = list(rows[0]) if rows else list(HEADERS.get(kind, ()))
            if fields:
                writer = csv.DictWriter(text, fieldnames=fields)
                writer.writeheader()
                writer.writerows({key: inert(value) for key, value in row.items()}
                                 for row in rows)
            archive.writestr(f"{kind}.csv", ("" if kind.startswith("polis/") else "\ufeff")
                             + text.getvalue())
    return buffer.getvalue()


def inert(value: Any) -> Any:
    """A cell a spreadsheet will not run: text that starts like a formula (= + - @, tab,
    carriage return) gets a leading apostrophe, as OWASP advises; numbers, and text that
    is only a number ("-2"), stay as they are."""
    if isinstance(value, str) and value.startswith(FORMULA) and not NUMBER.fullmatch(value):
        return "'" + value
    return value


def decoded(data: Mapping[str, Rows]) -> dict[str, list[dict[str, Any]]]:
    """The rows, with what is stored as JSON text given as JSON values (a matrix answer is
    an object, not a string inside a string)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for kind, rows in data.items():
        columns = JSON_COLUMNS.get(kind, ())
        out[kind] = [{key: _json(value) if key in columns else value
                      for key, value in row.items()} for row in rows]
    return out


def _json(value: Any) -> Any:
    if not isinstance(value, str) or not value:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def question_totals(results: Sequence[Results]) -> list[dict[str, Any]]:
    """One row per option (per item and level for a matrix, per word for a free text)."""
    rows: list[dict[str, Any]] = []
    for result in results:
        q = result.question
        base = {"question_id": q.id, "question": q.text, "kind": q.kind, "n": result.n}
        if isinstance(result, ChoiceResults):
            extra = {"mean": result.mean, "median": result.median} if q.kind == "scale" \
                else {}
            rows += [{**base, "option": bar.choice.label, "count": bar.count,
                      "percent": round(bar.percent, 1), **extra} for bar in result.bars]
        elif isinstance(result, MatrixResults):
            levels = q.settings.levels
            rows += [{**base, "n": row.n, "option": row.item.label, "level": level,
                      "count": count, "percent": round(percent, 1)}
                     for row in result.rows
                     for level, count, percent in zip(levels, row.counts, row.percents,
                                                      strict=False)]
        elif isinstance(result, RankingResults):
            rows += [{**base, "option": row.choice.label, "points": row.points,
                      "mean_rank": round(row.mean_rank, 2), "percent": round(row.percent, 1)}
                     for row in result.rows]
        else:
            rows += [{**base, "option": group.word, "count": group.count}
                     for group in result.visible]
    return [{column: row.get(column, "") for column in TOTAL_COLUMNS} for row in rows]


def _methods(data: Mapping[str, Rows]) -> dict[int, str]:
    return {int(step["id"]): str((_json(step.get("settings")) or {}).get("method", "agree"))
            for step in data.get("steps", ()) if step.get("kind") == "vote"}


def vote_totals(data: Mapping[str, Rows]) -> list[dict[str, Any]]:
    """Per vote and item: agree / disagree / pass, the points given, or the count per
    grade (0 is the best grade)."""
    methods = _methods(data)
    tally: dict[tuple[int, str, int], Counter[int]] = {}
    for vote in data.get("votes", ()):
        key = (int(vote["step_id"]), str(vote["item_kind"]), int(vote["item_id"]))
        tally.setdefault(key, Counter())[int(vote["value"])] += 1
    rows = []
    for (step, kind, item), counts in sorted(tally.items()):
        method = methods.get(step, "agree")
        row: dict[str, Any] = {"step_id": step, "method": method, "item_kind": kind,
                               "item_id": item, "voters": sum(counts.values())}
        if method == "agree":
            row.update(agree=counts[1], disagree=counts[-1], passes=counts[0])
        elif method == "dots":
            row.update(points=sum(value * n for value, n in counts.items()))
        else:
            row.update({f"grade_{g}": counts[g] for g in range(7)})
        rows.append(row)
    return [{column: row.get(column, "") for column in VOTE_COLUMNS} for row in rows]


def _millis(at: Any) -> tuple[int | str, str]:
    try:
        when = dt.datetime.fromisoformat(str(at))
    except ValueError:
        return "", ""
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return int(when.timestamp() * 1000), when.strftime("%a %b %d %H:%M:%S %Z %Y")


def polis(data: Mapping[str, Rows]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The proposals as Pol.is comments and the agree/disagree/pass votes on them as Pol.is
    votes (1 agree, -1 disagree, 0 pass; a hidden proposal is moderated out, -1)."""
    agree_steps = {step for step, method in _methods(data).items() if method == "agree"}
    votes = [v for v in data.get("votes", ())
             if int(v["step_id"]) in agree_steps and v["item_kind"] == "proposal"]
    counts: dict[int, Counter[int]] = {}
    for vote in votes:
        counts.setdefault(int(vote["item_id"]), Counter())[int(vote["value"])] += 1
    comments = []
    for p in data.get("proposals", ()):
        stamp, when = _millis(p.get("created_at"))
        tally = counts.get(int(p["id"]), Counter())
        comments.append({"timestamp": stamp, "datetime": when, "comment-id": p["id"],
                         "author-id": p.get("participant_id") or "",
                         "agrees": tally[1], "disagrees": tally[-1],
                         "moderated": -1 if p.get("hidden") else 1,
                         "comment-body": p["text"]})
    rows = []
    for vote in votes:
        stamp, when = _millis(vote.get("updated_at"))
        rows.append({"timestamp": stamp, "datetime": when, "comment-id": vote["item_id"],
                     "voter-id": vote["participant_id"], "vote": int(vote["value"])})
    return comments, rows


HEADERS = {"vote_totals": VOTE_COLUMNS,
           "polis/comments": ("timestamp", "datetime", "comment-id", "author-id", "agrees",
                              "disagrees", "moderated", "comment-body"),
           "polis/votes": ("timestamp", "datetime", "comment-id", "voter-id", "vote"),
           "question_totals": TOTAL_COLUMNS}
