"""The report in a real browser (headless Chromium): images decode, no network, no errors.

A copy of ``report.html`` gets a script at the top of its ``<head>`` that
records script errors, failed loads and ``console.error`` calls, and after
``load`` writes into the DOM (``<pre id="synflair-check">``) every image's
decoded size and every resource the page fetched (Resource Timing; ``data:``
URIs are not fetches). Chromium's ``--dump-dom`` prints that DOM. Host names
resolve to nothing, so a URL in the report could not load even by accident.
A screenshot of the first screen is saved too.

Skipped (with the reason) where Chromium is not installed, unless
``SYNFLAIR_REQUIRE_CHROMIUM=1`` (CI), where that is a failure.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

CHECK_SCRIPT = """<script>
window.__errors = [];
window.addEventListener('error', function (e) {
  var t = e.target && e.target !== window
    ? (e.target.tagName + ' ' + (e.target.src || e.target.href || '')).slice(0, 160) : '';
  window.__errors.push('error: ' + (e.message || t));
}, true);
(function () {
  var original = console.error;
  console.error = function () {
    window.__errors.push('console.error: ' + Array.prototype.join.call(arguments, ' '));
    original.apply(console, arguments);
  };
})();
window.addEventListener('load', function () {
  var images = Array.prototype.map.call(document.images, function (i) {
    return {alt: i.alt.slice(0, 60), complete: i.complete, width: i.naturalWidth,
            height: i.naturalHeight};
  });
  var fetched = performance.getEntriesByType('resource').map(function (r) {
    return r.name.slice(0, 200);
  });
  var pre = document.createElement('pre');
  pre.id = 'synflair-check';
  pre.textContent = JSON.stringify({images: images, fetched: fetched, errors: window.__errors});
  document.body.appendChild(pre);
});
</script>"""

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_browser() -> str | None:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.fixture(scope="module")
def browser() -> str:
    path = find_browser()
    if path is None:
        reason = "no Chromium (apt-get install chromium) to render the report in"
        if os.environ.get("SYNFLAIR_REQUIRE_CHROMIUM") == "1":
            pytest.fail(f"SYNFLAIR_REQUIRE_CHROMIUM=1 but {reason}")
        pytest.skip(reason)
    return path


def _chromium(browser: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    command = [
        browser,
        "--headless",
        "--disable-gpu",
        "--no-sandbox",  # root in containers and CI
        "--no-first-run",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        "--host-resolver-rules=MAP * ~NOTFOUND",  # no host name resolves: nothing can load
        "--virtual-time-budget=10000",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def browser_checks(browser: str, html: Path, work: Path) -> dict:
    """Render ``html`` with the check script; return its findings (images, fetched, errors)."""
    text = html.read_text(encoding="utf-8")
    if "<head>" not in text:
        raise AssertionError(f"{html}: no <head>")
    checked = work / f"checked-{html.name}"
    checked.write_text(text.replace("<head>", "<head>" + CHECK_SCRIPT, 1), encoding="utf-8")
    result = _chromium(browser, work / "profile", "--dump-dom", checked.as_uri())
    found = re.search(r'<pre id="synflair-check">(.*?)</pre>', result.stdout, re.S)
    assert found, f"no check output; chromium said:\n{result.stderr[-3000:]}"
    import html as html_module

    return json.loads(html_module.unescape(found.group(1)))


def screenshot(browser: str, html: Path, out: Path, size=(1280, 1000)) -> Path:
    """A PNG of the first screen (``size`` CSS pixels) of ``html``."""
    result = _chromium(
        browser,
        out.parent / "profile-shot",
        f"--window-size={size[0]},{size[1]}",
        f"--screenshot={out}",
        html.as_uri(),
    )
    assert out.is_file() and out.stat().st_size > 10_000, result.stderr[-3000:]
    return out


def test_the_report_renders_with_every_image_no_fetch_and_no_error(browser, report, tmp_path):
    checks = browser_checks(browser, report, tmp_path)
    n_images = report.read_text().count("<img")
    assert len(checks["images"]) == n_images >= 8
    broken = [i for i in checks["images"] if not (i["complete"] and i["width"] > 0)]
    assert not broken, broken
    assert checks["fetched"] == []
    assert checks["errors"] == []
    shot = screenshot(browser, report, tmp_path / "first-screen.png")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_checks_catch_a_broken_image_a_fetch_and_a_script_error(browser, tmp_path):
    page = tmp_path / "bad.html"
    page.write_text(
        "<!DOCTYPE html><html><head><title>bad</title></head><body>"
        '<img src="data:image/png;base64,AAAA" alt="not a png">'
        '<img src="http://example.invalid/x.png" alt="remote">'
        "<script>console.error('boom'); undefined_function();</script></body></html>",
        encoding="utf-8",
    )
    checks = browser_checks(browser, page, tmp_path)
    assert [i["width"] for i in checks["images"]] == [0, 0]
    assert any("example.invalid" in url for url in checks["fetched"])
    errors = " | ".join(checks["errors"])
    assert "console.error: boom" in errors
    assert "undefined_function" in errors
