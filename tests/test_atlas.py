"""The web atlas in a real browser: headless Chromium (Debian's `chromium`) driven by
Playwright against a real `coopdec-kg serve` on a free port of 127.0.0.1.

One server and one browser for the module. Every page is checked for console errors and for
requests that leave the server; screenshots go to test-artifacts/screenshots/ (gitignored).
The server also serves a small extra file whose label holds a `<script>` element, which must
be shown as text. Without Chromium or Playwright the module is skipped, with the reason.
"""

from __future__ import annotations

import json
import shutil
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from coopdec_kg.web.pages import MAX_UPLOAD_BYTES
from report_text import Said
from serving import REPO, Server, start, stop

SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
HOSTILE_LABEL = "<script>document.title='owned'</script> Hostile"
HOSTILE = "https://w3id.org/coopdec-kg/id/authority/hostile-label-test"
SENART = "/page/authority/san-senart"
BAD_FIXTURE = REPO / "tests" / "fixtures" / "submissions" / "rule1-bad-state-partner.ttl"

# the report's six headings (report line, stated count): the levels chart shows these
LEVELS = [(318, "74"), (377, "12"), (389, "18"), (442, "14"), (556, "8"), (562, "5")]

try:
    from playwright.sync_api import Browser, Page, sync_playwright
except ImportError:  # pragma: no cover - the dev extras install it
    sync_playwright = None

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sync_playwright is None, reason="Playwright is not installed"),
    pytest.mark.skipif(CHROMIUM is None, reason="no Chromium here (apt-get install chromium)"),
]


@dataclass
class Visit:
    """What the browser saw while showing pages: console errors and every URL it requested."""

    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("atlas")
    hostile = folder / "hostile.ttl"
    label = HOSTILE_LABEL.replace("'", "\\'")
    hostile.write_text(
        "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n"
        f"<{HOSTILE}> skos:prefLabel '{label}'@fr .\n",
        encoding="utf-8",
    )
    started = start(["--workers", "2", "--extra", str(hostile)], folder / "store")
    try:
        yield started
    finally:
        stop(started)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert sync_playwright is not None and CHROMIUM is not None
    playwright = sync_playwright().start()
    try:
        try:
            launched = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
            )
        except Exception as error:  # a Chromium that cannot start here (no sandbox support…)
            pytest.skip(f"Chromium cannot start: {str(error).splitlines()[0]}")
        yield launched
        launched.close()
    finally:
        playwright.stop()


@pytest.fixture(scope="module")
def seen() -> Visit:
    return Visit()


@pytest.fixture
def visit(seen: Visit) -> Visit:
    """What the browser saw during this test only."""
    seen.errors.clear()
    seen.requests.clear()
    return seen


@pytest.fixture(scope="module")
def page(browser: Browser, server: Server, seen: Visit) -> Iterator[Page]:
    context = browser.new_context(
        viewport={"width": 1100, "height": 900}, locale="fr-FR", base_url=server.base
    )
    opened = context.new_page()
    opened.on("console", lambda m: seen.errors.append(m.text) if m.type == "error" else None)
    opened.on("pageerror", lambda error: seen.errors.append(str(error)))
    opened.on("request", lambda request: seen.requests.append(request.url))
    opened.on("dialog", lambda dialog: seen.errors.append(f"a dialog opened: {dialog.message}"))
    yield opened
    context.close()


def _shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _clean(visit: Visit, server: Server) -> None:
    """No console error so far, and no request that left the server."""
    assert visit.errors == []
    assert [url for url in visit.requests if not url.startswith(server.base)] == []


# ---------------------------------------------------------------------------- the pages


PAGES = [
    ("home", "/"),
    ("home-en", "/?lang=en"),
    ("questions", "/questions"),
    ("charts", "/charts?lang=en"),
    ("map", "/map"),
    ("sparql", "/query"),
    ("validate", "/validate?lang=en"),
    ("senart", SENART),
    ("ontology", "/ontology?lang=en"),  # `docs`' own page: its inline style allowed by hash
]


def test_every_page_loads_cleanly_and_in_both_languages(
    page: Page, server: Server, visit: Visit
) -> None:
    for name, path in PAGES:
        answer = page.goto(path)
        assert answer is not None and answer.status == 200, path
        assert answer.headers["content-security-policy"].startswith("default-src 'self'")
        if name != "ontology":
            assert answer.headers["content-security-policy"] == "default-src 'self'"
            assert page.locator("main h1").count() == 1, path
        _shot(page, name)
    _clean(visit, server)
    page.goto("/")  # the browser says French first (locale fr-FR)
    assert page.locator("html").get_attribute("lang") == "fr"
    page.get_by_role("link", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", name="Key figures").is_visible()


def test_senart_is_found_with_its_partner_and_passages(
    page: Page, server: Server, visit: Visit, said: Said
) -> None:
    said((993, 994), "le SAN de Sénart", "son partenaire mauritanien")
    page.goto("/?lang=fr")
    page.locator("#home-search").fill("senart")
    page.locator("#home-search").press("Enter")
    page.get_by_role("link", name="Sénart", exact=True).click()
    assert page.url.endswith(SENART + "?lang=fr") or page.url.endswith(SENART)
    assert page.locator("main h1").inner_text() == "Sénart"
    partners = page.locator("section[aria-labelledby=partners]").inner_text()
    assert "Mauritanie" in partners
    sources = page.locator("section[aria-labelledby=sources]")
    assert "lignes 993–994" in sources.inner_text()
    assert "III.B.2" in sources.inner_text()
    assert "Agence COOP DEC Conseil" in sources.locator("cite").inner_text()
    _clean(visit, server)


def test_levels_chart_shows_the_six_stated_counts(
    page: Page, server: Server, visit: Visit, said: Said
) -> None:
    for line, count in LEVELS:
        said(line, f": {count} CA")
    page.goto("/charts")
    bars = page.locator("#levels-chart text.value.stated").all_text_contents()
    assert bars == [count for _, count in LEVELS]
    assert page.locator("table.audit tr.disagrees").count() > 0  # the audit marks them
    _clean(visit, server)


def _api(server: Server, path: str) -> Any:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(server.base + path.lstrip("/"), timeout=30) as answer:
        return json.loads(answer.read())


def test_map_shades_every_partner_country_and_shows_its_links(
    page: Page, server: Server, visit: Visit, said: Said
) -> None:
    listed = _api(server, "/api/queries/partner-countries?format=json")["results"]["bindings"]
    countries = {row["country"]["value"].rsplit("/", 1)[1] for row in listed if "country" in row}
    said((993, 994), "partenaire mauritanien")  # Sénart's partner, in none of the lists
    countries.add("MRT")
    page.goto("/map")
    for code in sorted(countries):
        shaded = page.locator(f"#world a.partner[data-code={code}]")
        assert shaded.count() == 1, code
        assert "shade-" in (shaded.get_attribute("class") or ""), code
    page.locator("#world a.partner[data-code=MRT]").dispatch_event("click")
    page.wait_for_url("**/map?country=MRT*#links")
    assert "Sénart" in page.locator("#links-section table").inner_text()
    _clean(visit, server)


def test_a_question_runs_from_its_form_and_pages(page: Page, server: Server, visit: Visit) -> None:
    page.goto("/questions/partner-countries?lang=en")
    page.get_by_role("button", name="Run").click()
    status = page.get_by_role("status").inner_text()
    total = len(_api(server, "/api/queries/partner-countries")["results"]["bindings"])
    assert total > 20  # so that it pages
    assert status == f"Rows 1 to 20 of {total}."
    first_page = page.locator("main table tbody tr").count()
    page.get_by_role("link", name="Next →").click()
    assert page.get_by_role("status").inner_text() == f"Rows 21 to {total} of {total}."
    assert first_page + page.locator("main table tbody tr").count() == total
    page.locator("select#p-area").select_option(label="Asia")
    page.get_by_role("button", name="Run").click()
    page.wait_for_url("**area=*")  # the answer's page, not the one the form was on
    rows = page.locator("main table tbody tr").all_inner_texts()
    assert rows and all("Asia" in row for row in rows)
    download = page.get_by_role("link", name="CSV").get_attribute("href")
    assert download is not None and "download=1" in download  # a file for people: guarded CSV
    _clean(visit, server)


def test_sparql_page_answers(page: Page, server: Server, visit: Visit) -> None:
    page.goto("/query?lang=en")
    page.locator("#query").fill(
        "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"
        "SELECT ?label WHERE { <https://w3id.org/coopdec-kg/id/authority/san-senart> "
        "skos:prefLabel ?label }"
    )
    page.get_by_role("button", name="Run").click()
    assert page.locator("main table tbody").inner_text().strip() == "Sénart"
    page.locator("#query").fill("ASK { ?s ?p ?o }")
    page.locator("#query").press("Control+Enter")  # the editor's shortcut
    page.wait_for_selector("p.answer")
    assert page.locator("p.answer").inner_text() == "Yes (true)."
    _clean(visit, server)


@pytest.mark.parametrize(
    ("lang", "verdict", "said_by_the_law"),
    [
        ("fr", "Non conforme", "collectivité territoriale étrangère"),
        ("en", "Does not conform", "foreign territorial authority"),
    ],
)
def test_validation_page_reports_a_violation_in_each_language(
    page: Page, server: Server, visit: Visit, lang: str, verdict: str, said_by_the_law: str
) -> None:
    page.goto(f"/validate?lang={lang}")
    page.locator("#file").set_input_files(str(BAD_FIXTURE))
    page.locator("form[enctype] button[type=submit]").click()
    report = page.locator("section.report")
    assert report.locator("h2").inner_text() == verdict
    assert report.locator("li.violation").count() == 2  # the fixture's two expected results
    assert said_by_the_law in report.inner_text()
    assert "Madagascar" in report.inner_text()
    _shot(page, f"validate-{lang}")
    _clean(visit, server)


def test_an_upload_is_bounded_and_nothing_is_written(server: Server, tmp_path: Path) -> None:
    """A file past the limit is refused before it is read; a validation writes no store."""
    boundary = "atlas-test-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.ttl"\r\n'
            "Content-Type: text/turtle\r\n\r\n"
        ).encode()
        + b"#" * (MAX_UPLOAD_BYTES + 1)
        + f"\r\n--{boundary}--\r\n".encode()
    )
    request = urllib.request.Request(
        server.base + "validate?lang=en",
        data=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with pytest.raises(urllib.error.HTTPError) as refused:
        opener.open(request, timeout=30)
    assert refused.value.code == 413
    assert f"larger than the limit of {MAX_UPLOAD_BYTES} bytes" in refused.value.read().decode()
    assert server.store is not None
    assert not server.store.exists()  # the server never built nor wrote a store


def test_a_literal_holding_a_script_is_shown_as_text(
    page: Page, server: Server, visit: Visit
) -> None:
    page.goto("/page/authority/hostile-label-test")
    assert page.locator("main h1").inner_text() == HOSTILE_LABEL
    assert page.locator("main script").count() == 0
    assert page.title() != "owned"
    _clean(visit, server)
