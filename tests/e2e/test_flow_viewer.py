"""The flow viewer (``/ui/flows``) and the API docs page in a real headless browser: Debian's
``chromium`` driven by selenium through ``chromedriver``, against the app served over HTTP
on real PostgreSQL and Redis (the session's ``services``).

The app reads a copy of the shipped flows folder, which a test breaks and mends. A missing
browser fails the module: ``make test`` installs it.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest
import uvicorn
from psycopg import sql
from selenium import webdriver
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from api.app import create_app
from ticketflow.db.engine import make_engine, make_session_factory
from ticketflow.db.migrate import upgrade
from ticketflow.devstack.process import free_port
from ticketflow.identity import key_store
from ticketflow.identity.principals import Role
from ticketflow.infra.settings import ROOT, Settings

pytestmark = pytest.mark.e2e

T = TypeVar("T")
WAIT_SECONDS = 20


def _in_a_thread(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Runs a coroutine on a loop of its own, away from the session's loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, make()).result()


def _database(services: Settings) -> str:
    """A migrated database of the module's own on the session's PostgreSQL."""
    name = f"flow_viewer_{uuid.uuid4().hex[:6]}"
    server = urlsplit(services.database_url)
    with psycopg.connect(server._replace(path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = server._replace(path=f"/{name}").geturl()
    upgrade(url)
    return url


async def _keys(database_url: str) -> dict[str, str]:
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    try:
        return {role: (await key_store.create_key(sessions, role=role, name=f"viewer {role}",
                                             agent_id="ann" if role == Role.AGENT else None)
                       ).secret for role in (Role.ADMIN, Role.AGENT)}
    finally:
        await engine.dispose()


class Viewer:
    """The app on a free port, its flows folder, its keys and an admin client of the API."""

    def __init__(self, url: str, flows: Path, secrets: dict[str, str]) -> None:
        self.url, self.flows, self.keys = url, flows, secrets
        self.api = httpx.Client(base_url=url, timeout=10,
                                headers={"Authorization": f"Bearer {secrets[Role.ADMIN]}"})


@pytest.fixture(scope="module")
def viewer(services: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Viewer]:
    home = tmp_path_factory.mktemp("viewer")
    flows = home / "flows"  # named as the shipped one: problems read `flows/<file>`
    shutil.copytree(ROOT / "flows", flows)
    settings = services.model_copy(update={
        "flows_dir": flows, "state_dir": home / "state", "database_url": _database(services)})
    secrets = _in_a_thread(lambda: _keys(settings.database_url))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="viewer-api", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the API did not start"
        time.sleep(0.05)
    v = Viewer(f"http://127.0.0.1:{port}", flows, secrets)
    yield v
    v.api.close()
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        pytest.fail("no chromium or chromedriver on PATH: `make test` installs them "
                    "(apt-get install chromium chromium-driver)", pytrace=False)
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1400,1000", "--no-first-run"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    b = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=driver))
    try:
        yield b
    finally:
        b.quit()


def until(browser: WebDriver, check: Callable[[WebDriver], T], what: str) -> T:
    return WebDriverWait(browser, WAIT_SECONDS).until(check, f"waited for {what}")


def console_errors(browser: WebDriver) -> list[dict]:
    """The browser's console errors since the last look (reading the log empties it), less
    the 404 of ``/favicon.ico`` that the JSON page of :func:`open_fresh` may cause (the pages
    under test name an inline icon, so they fetch none)."""
    return [e for e in browser.get_log("browser")
            if e["level"] == "SEVERE" and "/favicon.ico " not in e["message"]]


def open_fresh(browser: WebDriver, origin: str, page: str) -> None:
    """Opens a page with no credential kept in the tab (forgotten on a page that makes no call,
    so no call of a page still loading goes out without it)."""
    browser.get(f"{origin}/healthz")
    browser.execute_script("sessionStorage.clear()")
    browser.get(f"{origin}{page}")


def open_with_key(browser: WebDriver, origin: str, page: str, key: str) -> None:
    """Opens a page with no credential kept, then gives it one through its form."""
    open_fresh(browser, origin, page)
    form = browser.find_element(By.ID, "key")
    form.find_element(By.NAME, "credential").send_keys(key)
    form.find_element(By.TAG_NAME, "button").click()


def node_ids(browser: WebDriver, flow: str, css: str = "g.node") -> set[str]:
    """The step ids of a flow's drawn nodes (matching ``css``)."""
    return set(browser.execute_script(
        "return [...document.querySelectorAll(arguments[0])].map((g) => g.dataset.step)",
        f'article[data-flow="{flow}"] .graph svg {css}'))


def drawn(browser: WebDriver, count: int) -> bool:
    return browser.execute_script(
        "const a = document.querySelectorAll('article.flow');"
        "return a.length === arguments[0] && [...a].every((f) => f.querySelector('.graph svg g.node'))",
        count)


def flow_graphs(v: Viewer) -> dict[str, dict]:
    return {f["name"]: v.api.get(f"/api/flows/{f['name']}").json()
            for f in v.api.get("/api/flows").json()["items"]}


def test_every_active_flow_is_drawn_with_its_facts_and_no_console_error(
        viewer: Viewer, browser: WebDriver) -> None:
    open_fresh(browser, viewer.url, "/ui/flows")
    assert "Enter an API key" in until(browser, lambda b: b.find_element(By.ID, "message").text,
                                       "the page to ask for a key")
    open_with_key(browser, viewer.url, "/ui/flows", viewer.keys[Role.ADMIN])
    flows = flow_graphs(viewer)
    assert set(flows) == {"vip_ticket", "refund_escalation", "default"}
    until(browser, lambda b: drawn(b, len(flows)), "every flow's graph")

    names = [a.get_attribute("data-flow") for a in browser.find_elements(By.CSS_SELECTOR, "article.flow")]
    assert names == list(flows)  # in the order flows are tried
    for name, flow in flows.items():
        assert node_ids(browser, name) >= {s["id"] for s in flow["steps"]}, name
        facts = browser.find_element(By.ID, f"flow-{name}").find_element(By.TAG_NAME, "dl").text
        assert flow["digest"] in facts and str(flow["order"]) in facts
        assert (flow["when"] or "default") in facts
    # No agent here: each flow's queues are shown as unserved.
    vip_warnings = browser.find_element(By.CSS_SELECTOR, "#flow-vip_ticket .warnings").text
    assert "queue vip: no online agent serves it" in vip_warnings
    assert browser.find_element(By.ID, "folder-state").text == "The flows folder on disk is the active set."
    assert not browser.find_element(By.ID, "refused").is_displayed()
    assert console_errors(browser) == []


def test_a_simulation_highlights_its_path_on_its_flow_only(viewer: Viewer, browser: WebDriver) -> None:
    open_with_key(browser, viewer.url, "/ui/flows", viewer.keys[Role.ADMIN])
    flows = flow_graphs(viewer)
    until(browser, lambda b: drawn(b, len(flows)), "every flow's graph")
    # The NLP result stated: no worker is needed to tag the text.
    body = {"ticket": {"subject": "Hello", "content": "Hi", "user_level": 5},
            "nlp": {"language": "en"}}
    for chosen in ("", "default"):  # the worker's choice (vip_ticket), then a flow picked
        expected = viewer.api.post("/api/flows/simulate",
                                   json={**body, **({"flow": chosen} if chosen else {})}).json()
        flow, path = expected["flow"], expected["path"]
        assert flow == (chosen or "vip_ticket")
        assert path and {s["id"] for s in flows[flow]["steps"]} - set(path)  # some not taken
        form = browser.find_element(By.ID, "simulate")
        Select(form.find_element(By.NAME, "flow")).select_by_value(chosen)
        area = form.find_element(By.NAME, "body")
        area.clear()
        area.send_keys(json.dumps(body))
        form.find_element(By.TAG_NAME, "button").click()
        # The path's steps carry the highlight, on the simulated flow only.
        wanted = {name: set(path) if name == flow else set() for name in flows}
        until(browser, lambda b, w=wanted: {n: node_ids(b, n, "g.node.visited") for n in flows} == w,
              f"the path of {flow} highlighted")
        assert node_ids(browser, flow) >= {s["id"] for s in flows[flow]["steps"]}  # all drawn
        assert browser.find_element(By.ID, "sim-flow").text == flow
        assert browser.find_element(By.ID, "sim-path").text == " → ".join(path)
        assert browser.find_element(By.ID, "sim-status").text == expected["outcome"]["status"]
    assert console_errors(browser) == []


# A flow that jumps to a step it does not have: the whole folder is refused.
TYPO_FLOW = """name: typo
when: ticket.channel == "email"
steps:
  - id: first
    set: {queue: general}
    jump_to: nowhere
"""


def test_a_refused_edit_shows_its_problems_while_the_last_good_set_stays_drawn(
        viewer: Viewer, browser: WebDriver) -> None:
    open_with_key(browser, viewer.url, "/ui/flows", viewer.keys[Role.ADMIN])
    until(browser, lambda b: drawn(b, 3), "every flow's graph")
    typo = viewer.flows / "typo.yaml"
    typo.write_text(TYPO_FLOW)
    try:
        refused = viewer.api.get("/api/flows").json()["refused"]
        assert refused == {"problems": [{
            "file": "flows/typo.yaml", "line": 4, "column": 5, "step": "first",
            "message": "jumps to unknown step 'nowhere' (steps: first)"}]}
        browser.find_element(By.ID, "reload").click()
        until(browser, lambda b: b.find_element(By.ID, "refused").is_displayed(), "the refused edit")
        rows = [[td.text for td in tr.find_elements(By.TAG_NAME, "td")]
                for tr in browser.find_elements(By.CSS_SELECTOR, "#problems tr")]
        assert rows == [["flows/typo.yaml:4:5", "first",
                         "jumps to unknown step 'nowhere' (steps: first)"]]
        assert "was refused (1 problem)" in browser.find_element(By.ID, "folder-state").text
        assert drawn(browser, 3)  # the last good set, still serving
    finally:
        typo.unlink()
    browser.find_element(By.ID, "reload").click()
    until(browser, lambda b: not b.find_element(By.ID, "refused").is_displayed(), "the mended folder")
    assert viewer.api.get("/api/flows").json()["refused"] is None
    assert console_errors(browser) == []


def test_a_refused_or_unfit_credential_reads_as_a_message(viewer: Viewer, browser: WebDriver) -> None:
    message = lambda b: b.find_element(By.ID, "message").text  # noqa: E731
    open_with_key(browser, viewer.url, "/ui/flows", "tfk_" + "A" * 43)
    assert "The API refused this credential (401" in until(browser, message, "the 401 message")
    assert browser.find_elements(By.CSS_SELECTOR, "article.flow") == []

    token = viewer.api.post("/api/customer-tokens", json={"user_id": "cust-1"}).json()["token"]
    open_with_key(browser, viewer.url, "/ui/flows", token)
    assert until(browser, message, "the 403 message") == (
        "This credential may not do that (403): reading flows needs an admin, agent or "
        "integration key.")

    # An agent reads the flows but may not simulate.
    open_with_key(browser, viewer.url, "/ui/flows", viewer.keys[Role.AGENT])
    until(browser, lambda b: drawn(b, 3), "every flow's graph")
    browser.find_element(By.CSS_SELECTOR, "#simulate button").click()
    assert until(browser, lambda b: b.find_element(By.ID, "simulate-message").text,
                 "the simulation's 403") == (
        "This credential may not do that (403): simulating needs an admin key.")
    assert not browser.find_element(By.ID, "simulation").is_displayed()

    browser.find_element(By.CSS_SELECTOR, "#key .key-forget").click()
    assert until(browser, message, "the request for a key").startswith("Enter an API key")
    assert browser.execute_script("return sessionStorage.length") == 0
    browser.get_log("browser")  # the refused calls' network errors, expected here


def test_the_api_docs_page_sends_its_credential(viewer: Viewer, browser: WebDriver) -> None:
    open_with_key(browser, viewer.url, "/docs", viewer.keys[Role.ADMIN])
    until(browser, lambda b: b.find_elements(By.CSS_SELECTOR, ".opblock"), "Swagger UI's operations")
    assert browser.find_element(By.CSS_SELECTOR, "#key .key-state").text == "set for this tab"
    assert console_errors(browser) == []


def test_the_api_reference_renders_offline_with_the_credential(viewer: Viewer,
                                                               browser: WebDriver) -> None:
    open_with_key(browser, viewer.url, "/redoc", viewer.keys[Role.ADMIN])
    until(browser, lambda b: b.find_elements(By.CSS_SELECTOR, ".api-content h1"),
          "Redoc's rendered reference")
    assert "/api/tickets" in browser.find_element(By.ID, "ui").text
    assert console_errors(browser) == []
