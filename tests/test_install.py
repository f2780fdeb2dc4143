"""The built wheel is complete: installed away from the checkout, Éclair imports every module,
finds its templates, static files, plans and catalogues, and serves translated, styled pages.

The wheel is built from a copy of the sources without compiled catalogues (the build must
make them) and installed with --no-deps into a new virtual environment. Its dependencies come
from this environment's site-packages through a .pth file: a directory named there is added
to sys.path after the new environment's own, and its .pth files (the checkout's editable
install) are not run, so `facilitation` can only come from the wheel."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import sysconfig
import time
import urllib.request
from pathlib import Path

import pytest

from tests.server import Server, free_port

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "facilitation"
# What the build needs; caches, local databases and compiled catalogues stay behind.
SOURCES = ("pyproject.toml", "setup.py", "README.md", "facilitation")
LEFT_BEHIND = shutil.ignore_patterns("__pycache__", "*.pyc", "*.mo", ".*")


def run(*args: str | Path, cwd: Path | None = None) -> str:
    done = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True,
                          env=clean_env(), timeout=300)
    assert done.returncode == 0, f"{args}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def clean_env() -> dict[str, str]:
    """This process's environment, minus anything that would import from the checkout."""
    import os

    env = {k: v for k, v in os.environ.items()
           if k not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"}}
    return {**env, "PYTHONSAFEPATH": "1"}


def get(url: str) -> tuple[int, dict[str, str], str]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, dict(response.headers), response.read().decode()


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A wheel built from a clean copy of the sources, installed in a new environment."""
    tmp = tmp_path_factory.mktemp("install")
    started = time.monotonic()
    src = tmp / "src"
    src.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=LEFT_BEHIND)
        else:
            shutil.copy2(ROOT / name, src / name)
    run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", tmp / "dist", src)
    (wheel,) = (tmp / "dist").glob("eclair-*.whl")
    built = time.monotonic()

    venv = tmp / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    run(sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps",
        "--no-index", wheel)
    site = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
                .strip())
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "zz_eclair_dependencies.pth").write_text("".join(f"{d}\n" for d in sorted(deps)))
    print(f"\nwheel {wheel.name}: {wheel.stat().st_size / 1000:.0f} kB, built in "
          f"{built - started:.1f} s, installed in {time.monotonic() - built:.1f} s")
    return {"venv": venv, "python": python, "site": site, "wheel": wheel, "tmp": tmp}


def test_the_wheel_holds_every_file_read_at_run_time(installed):
    package = installed["site"] / "facilitation"
    for folder in ("templates", "static", "sessions"):
        shipped = {p.relative_to(PACKAGE) for p in (PACKAGE / folder).rglob("*") if p.is_file()}
        missing = {p for p in shipped if not (package / p).is_file()}
        assert shipped and not missing, f"missing from the wheel: {sorted(missing)}"
    for po in PACKAGE.glob("locales/*/LC_MESSAGES/messages.po"):
        assert (package / po.relative_to(PACKAGE)).with_suffix(".mo").is_file(), po
    for module in PACKAGE.rglob("*.py"):
        assert (package / module.relative_to(PACKAGE)).is_file(), module
    assert not (package / "data").exists()


def test_every_module_imports_from_the_installed_package(installed):
    script = """
import importlib, pathlib, pkgutil, sys
import facilitation
for module in pkgutil.walk_packages(facilitation.__path__, "facilitation."):
    if module.name != "facilitation.__main__":
        importlib.import_module(module.name)
from facilitation import ready_plans, routes, exports
from facilitation.exports import office, kit
from facilitation.settings import CHECKOUT, Settings
settings = Settings()
print(facilitation.__file__)
print(CHECKOUT)
print(len(ready_plans.load(settings.sessions_dir)))
print((settings.static_dir / "css" / "report.css").is_file())
"""
    out = run(installed["python"], "-c", script, cwd=installed["tmp"]).split("\n")
    assert out[0].startswith(str(installed["site"])), out[0]
    assert out[1:4] == ["None", "3", "True"]


def test_the_installed_eclair_serves_translated_styled_pages(installed, tmp_path):
    here = tmp_path / "elsewhere"  # not the checkout: nothing can be read from it
    here.mkdir()
    server = Server(db=tmp_path / "db" / "eclair.db", port=free_port(),
                    command=[str(installed["venv"] / "bin" / "eclair")], cwd=here,
                    env={"PYTHONSAFEPATH": "1", "PYTHONPATH": ""})
    try:
        server.start(timeout=60)
        status, _, home = get(server.base + "/")
        assert status == 200 and "Rejoindre une séance" in home  # the French catalogue
        css = re.search(r'href="(/static/css/eclair\.[0-9a-f]{10}\.css)"', home)
        assert css, home
        status, headers, style = get(server.base + css.group(1))
        assert status == 200 and "--accent" in style and "immutable" in headers["cache-control"]
        status, _, join = get(server.urls["join"])
        assert status == 200 and "Votre prénom (facultatif)" in join
        assert "Séance 1 : ce qui bloque" in join  # the demo plan, read from the package
        status, _, screen = get(server.urls["screen"])
        htmx = re.search(r'src="(/static/vendor/htmx-[0-9.]+\.min\.[0-9a-f]{10}\.js)"', screen)
        assert status == 200 and htmx, screen
        status, _, script = get(server.base + htmx.group(1))
        assert status == 200 and "htmx" in script
    finally:
        server.stop()
    assert (tmp_path / "db" / "eclair.db").is_file()


def test_an_installed_eclair_keeps_its_database_under_the_current_directory(installed,
                                                                            tmp_path):
    out = run(installed["venv"] / "bin" / "eclair", "purge", "--dry-run", cwd=tmp_path)
    assert out.strip()
    assert (tmp_path / "data" / "eclair.db").is_file()


def pins(lock: str) -> dict[str, str]:
    """`name==version ; markers` of each pinned package of a lock file, by name."""
    found = {}
    for line in (ROOT / lock).read_text().splitlines():
        if re.match(r"[A-Za-z0-9]", line):
            pin = line.rstrip(" \\")
            found[re.split(r"[=; ]", pin, maxsplit=1)[0].lower().replace("_", "-")] = pin
    return found


def test_the_locks_pin_every_dependency_the_same_way():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    full, runtime = pins("requirements.lock"), pins("requirements-runtime.lock")

    def names(requirements: list[str]) -> set[str]:
        return {re.split(r"[<>=\[; ]", r, maxsplit=1)[0].lower() for r in requirements}

    assert names(project["dependencies"]) <= set(runtime), "run `make lock`"
    assert names(project["optional-dependencies"]["test"]) <= set(full), "run `make lock`"
    assert {name: full.get(name) for name in runtime} == runtime  # the container's = CI's
    assert all("==" in pin for pin in full.values())
