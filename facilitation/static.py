"""Static files under names that carry a hash of their content, cached for a year.

A page links `/static/vendor/htmx-2.0.11.min.<hash>.js`; when the file changes, so does
its name, so phones never keep a stale copy and never ask twice for the same one."""

from __future__ import annotations

import hashlib
import os
import re
from functools import lru_cache
from pathlib import Path

from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

HASHED = re.compile(r"^(?P<stem>.+)\.(?P<hash>[0-9a-f]{10})(?P<suffix>\.[a-z0-9]+)$")
YEAR = "public, max-age=31536000, immutable"


@lru_cache(maxsize=256)
def _digest(path: Path, mtime: float) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:10]


def hashed_name(root: Path, name: str) -> str:
    """`css/eclair.css` → `css/eclair.<hash>.css` (unchanged if the file is missing)."""
    path = root / name
    if not path.is_file():
        return name
    digest = _digest(path, path.stat().st_mtime)
    stem, dot, suffix = name.rpartition(".")
    return f"{stem}.{digest}.{suffix}" if dot else name


class HashedStaticFiles(StaticFiles):
    """Serves `name.<hash>.ext` as `name.ext`, with a year of caching when the hash is right."""

    def get_path(self, scope: Scope) -> str:
        path = super().get_path(scope)
        match = HASHED.match(path)
        if match:
            plain = match["stem"] + match["suffix"]
            scope["eclair.static_hash"] = match["hash"]
            return plain
        return path

    def file_response(self, full_path: str | os.PathLike[str], stat_result: os.stat_result,
                      scope: Scope, status_code: int = 200) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        wanted = scope.get("eclair.static_hash")
        if wanted and wanted == _digest(Path(full_path), stat_result.st_mtime):
            response.headers["cache-control"] = YEAR
        else:
            response.headers["cache-control"] = "no-cache"
        return response
