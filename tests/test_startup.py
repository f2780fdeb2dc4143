"""The server starts light: heavy libraries load only when their feature is first used."""

import subprocess
import sys

HEAVY = ("sklearn", "scipy", "numpy", "docx", "odf", "cairosvg", "weasyprint")


def test_starting_the_app_loads_no_heavy_library():
    code = ("import sys, facilitation.app, facilitation.routes\n"
            f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "", f"loaded at start: {out}"


def test_the_check_sees_a_heavy_import():
    code = ("import sys, facilitation.clustering\n"
            f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert "sklearn" in out
