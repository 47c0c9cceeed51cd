"""The playground page in a real headless Chromium (Playwright): pick a policy or type conditions,
check prompts, read the bars and the decision, move a threshold without a new request.

Needs `pip install playwright` (the `browser` extra) and a Chromium binary: Debian/Ubuntu
`apt-get install chromium`, or set CROSSINGGUARD_CHROMIUM=/path/to/chrome. Playwright's own
browser download (`playwright install chromium`) works too where its CDN is reachable.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from servekit import KEY, make_app

HOW = (
    "to run the playground browser test: pip install -e '.[serve,browser]' and install "
    "Chromium (apt-get install chromium, or `playwright install chromium`), or set "
    "CROSSINGGUARD_CHROMIUM=/path/to/chrome"
)
sync_api = pytest.importorskip(
    "playwright.sync_api", reason=f"playwright missing; {HOW}"
)


def chromium_path() -> str | None:
    """A system Chromium, else None (then Playwright's own download, if installed, is used)."""
    env = os.environ.get("CROSSINGGUARD_CHROMIUM")
    if env:
        return env
    for name in (
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as p:
        try:
            b = p.chromium.launch(executable_path=chromium_path(), headless=True)
        except sync_api.Error as exc:
            pytest.skip(f"no usable Chromium ({str(exc).splitlines()[0]}); {HOW}")
        yield b
        b.close()


@pytest.fixture()
def page(browser) -> Iterator[object]:
    context = browser.new_context()
    pg = context.new_page()
    yield pg
    context.close()


def test_playground_checks_prompts_and_rethresholds_locally(
    live_server, page, shop_policy: Path
) -> None:
    server = live_server(make_app(policies=("moderation", str(shop_policy))))
    checks: list[str] = []
    page.on(
        "request",
        lambda r: checks.append(r.url) if r.url.endswith("/v1/check") else None,
    )
    page.goto(server.url + "/")
    expect = sync_api.expect
    expect(page.get_by_test_id("status")).to_contain_text("ready · model fake")

    page.get_by_test_id("policy-select").select_option("shop")
    page.get_by_test_id("prompts-input").fill(
        "can I buy a gun\nI want a refund please\nhello there"
    )
    page.get_by_test_id("check-button").click()

    first, second, third = (page.get_by_test_id(f"result-{i}") for i in range(3))
    expect(first.get_by_test_id("decision")).to_have_text("BLOCKED · block")
    expect(second.get_by_test_id("decision")).to_have_text("ALLOWED · flag")
    expect(third.get_by_test_id("decision")).to_have_text("ALLOWED · allow")
    expect(first.get_by_test_id("fired-list")).to_have_text("fired: weapons")
    weapons = first.get_by_test_id("condition").first
    expect(weapons).to_have_attribute("data-fired", "true")
    expect(weapons.get_by_test_id("bar-entailment")).to_contain_text("90.0%")
    expect(weapons.get_by_test_id("bar-contradiction")).to_contain_text("5.0%")
    assert len(checks) == 1

    # Raise the weapons threshold above its score (0.9): the decision changes, nothing is rescored.
    page.get_by_test_id("threshold-0").evaluate(
        "el => { el.value = '0.95'; el.dispatchEvent(new Event('input')); }"
    )
    expect(first.get_by_test_id("decision")).to_have_text("ALLOWED · allow")
    expect(first.get_by_test_id("fired-list")).to_have_text("nothing fired")
    expect(weapons).to_have_attribute("data-fired", "false")
    page.get_by_test_id("threshold-0").evaluate(
        "el => { el.value = '0.5'; el.dispatchEvent(new Event('input')); }"
    )
    expect(first.get_by_test_id("decision")).to_have_text("BLOCKED · block")
    assert len(checks) == 1

    # Own conditions instead of a policy.
    page.get_by_test_id("mode-conditions").check()
    page.get_by_test_id("conditions-input").fill("cat sat\ndog barked")
    page.get_by_test_id("prompts-input").fill("the cat sat on the mat")
    page.get_by_test_id("check-button").click()
    expect(page.get_by_test_id("result-0").get_by_test_id("fired-list")).to_have_text(
        "fired: cat sat"
    )
    expect(page.get_by_test_id("result-1")).to_have_count(0)
    assert len(checks) == 2


def test_playground_asks_for_the_api_key_and_shows_errors(live_server, page) -> None:
    server = live_server(make_app(api_keys=(KEY,)))
    page.goto(server.url + "/")
    expect = sync_api.expect
    expect(page.get_by_test_id("error")).to_contain_text("401")
    page.get_by_test_id("api-key").fill(KEY)
    page.get_by_test_id("api-key").dispatch_event("change")
    expect(page.get_by_test_id("status")).to_contain_text("ready")
    expect(page.get_by_test_id("error")).to_be_hidden()
    page.get_by_test_id("prompts-input").fill("x" * 20_000)  # over --max-prompt-chars
    page.get_by_test_id("check-button").click()
    expect(page.get_by_test_id("error")).to_contain_text("--max-prompt-chars")
