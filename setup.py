"""Building Éclair compiles its gettext catalogues first: the .mo files are not in git (as
`make catalogues` does in a checkout), and the app refuses to start without them.

Everything else is declared in pyproject.toml."""

from __future__ import annotations

import os
import tempfile
from io import BytesIO
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

LOCALES = Path(__file__).resolve().parent / "facilitation" / "locales"


def compile_catalogues() -> list[Path]:
    """Each `messages.po` → `messages.mo` beside it (fuzzy entries kept, as `pybabel compile
    --use-fuzzy`); a file is rewritten only when its content changes, and atomically, since a
    running app may be reading it."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    sources = sorted(LOCALES.glob("*/LC_MESSAGES/messages.po"))
    if not sources:
        raise SystemExit(f"no gettext catalogue (messages.po) under {LOCALES}")
    written = []
    for po in sources:
        with po.open("rb") as handle:
            catalogue = read_po(handle, locale=po.parent.parent.name)
        buffer = BytesIO()
        write_mo(buffer, catalogue, use_fuzzy=True)
        mo = po.with_suffix(".mo")
        if not mo.is_file() or mo.read_bytes() != buffer.getvalue():
            fd, tmp = tempfile.mkstemp(dir=mo.parent, prefix=".messages.", suffix=".mo")
            with os.fdopen(fd, "wb") as out:
                out.write(buffer.getvalue())
            os.chmod(tmp, 0o644)
            os.replace(tmp, mo)
        written.append(mo)
    return written


class BuildWithCatalogues(build_py):
    def run(self) -> None:
        compile_catalogues()
        # Package data may have been listed before the .mo existed: list it again.
        self.__dict__.pop("data_files", None)
        super().run()


setup(cmdclass={"build_py": BuildWithCatalogues})
