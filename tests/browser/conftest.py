"""Fixtures of the console tests: one real server with the console world, and (for the
browser tests) Debian's Chromium driven by Playwright.

Browser tests are skipped, with the reason, when Chromium or Playwright is missing locally;
CI installs Chromium (``.ci/run``).  Set ``TRAILGATE_SCREENSHOTS=DIR`` to save screenshots of
the main pages (``docs/make_screenshots.py`` does).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.server import Server, start

from .world import ConsoleWorld, build

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


def chromium_path() -> str | None:
    """TRAILGATE_CHROMIUM if set (and present), else Debian's chromium."""
    chosen = os.environ.get("TRAILGATE_CHROMIUM")
    if chosen:
        return chosen if Path(chosen).exists() else None
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None and Path("/usr/bin/chromium").exists():
        found = "/usr/bin/chromium"
    return found


def browser_missing() -> str | None:
    """Why browser tests cannot run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -e '.[test]')"
    if chromium_path() is None:
        return "Chromium is not installed (apt-get install chromium; .ci/run installs it)"
    return None


@pytest.fixture(scope="session")
def console_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start(Path(tmp_path_factory.mktemp("console-data")))
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def console_world(console_server: Server) -> ConsoleWorld:
    return build(console_server)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Module-scoped on purpose: Playwright's sync API keeps an asyncio loop running in this
    thread until it stops, and later test modules call ``asyncio.run``."""
    missing = browser_missing()
    if missing is not None:
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS,
                                     headless=True)
        yield browser
        browser.close()


@pytest.fixture
def context(chromium: Any) -> Iterator[Any]:
    ctx = chromium.new_context(viewport={"width": 1280, "height": 860})
    ctx.set_default_timeout(15_000)
    yield ctx
    ctx.close()


def shot(page: Any, name: str) -> None:
    """Save a screenshot of the page when TRAILGATE_SCREENSHOTS names a folder."""
    folder = os.environ.get("TRAILGATE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """On a failed browser test, attach the text of its open pages to the report."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.when != "call" or not report.failed:
        return
    funcargs = getattr(item, "funcargs", {})
    pages = [v for v in funcargs.values() if hasattr(v, "content") and hasattr(v, "url")]
    for ctx in [v for v in funcargs.values() if hasattr(v, "pages")]:
        pages.extend(ctx.pages)
    for page in pages:
        try:
            text = page.locator("main").inner_text(timeout=2000)
        except Exception as exc:  # the page may be gone
            text = f"(unreadable: {exc})"
        report.sections.append((f"page {page.url}", text[:4000]))
