"""Chromium (Debian's /usr/bin/chromium) driven by Playwright, against the real server."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from tests.server import Server, free_port

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]
PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2,
         "is_mobile": True, "has_touch": True, "locale": "fr-FR"}


def _require_browser() -> None:
    if not os.path.exists(CHROMIUM) or shutil.which("chromium") is None:
        message = "Chromium is missing: run `make browser-deps` (apt-get install chromium)"
        if os.environ.get("ECLAIR_REQUIRE_BROWSER") or os.environ.get("CI"):
            pytest.fail(message)  # in CI a missing browser is a failure, never a skip
        pytest.skip(message)


# Module scope: Playwright's sync API keeps an event loop running in this thread while it
# is open, which would break asyncio.run() in the tests that come after.
@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def server(tmp_path) -> Iterator[Server]:
    s = Server(tmp_path / "browser.db", free_port()).start()
    yield s
    s.stop()
