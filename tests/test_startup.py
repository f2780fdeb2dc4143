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


def test_the_log_says_which_store_and_hub_at_start(app_settings, caplog):
    """A misspelt DATABASE_URL would fall back to a SQLite file silently: the start says."""
    import logging

    from starlette.testclient import TestClient

    from facilitation.app import create_app

    caplog.set_level(logging.INFO, logger="eclair")
    with TestClient(create_app(app_settings)):
        pass
    said = caplog.text
    if app_settings.database_url:
        assert "store: PostgreSQL at 127.0.0.1" in said
        assert "needs the same one (set ECLAIR_PHONE_KEY)" in said
    else:
        assert f"store: the SQLite file {app_settings.db_path}" in said
    assert "live events: in this process only" in said


def test_create_organiser_without_a_terminal(tmp_path, monkeypatch, capsys):
    """A script (or `docker compose exec -T`) has no terminal: a clear message, not a
    traceback; the name can come from the environment like the password."""
    import io

    import run

    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    monkeypatch.setenv("ECLAIR_ORGANISER_PASSWORD", "correct horse battery")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    argv = ["create-organiser", "--db", str(tmp_path / "eclair.db")]
    assert run.main(argv) == 2
    assert "ECLAIR_ORGANISER_USERNAME" in capsys.readouterr().err
    monkeypatch.setenv("ECLAIR_ORGANISER_USERNAME", "sysadmin")
    assert run.main(argv) == 0
    assert "OK: sysadmin" in capsys.readouterr().out
