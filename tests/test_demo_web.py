"""demos/web.py's page in a real browser (headless Chromium driven by selenium): it checks
itself against NumPy, and dragging a test digit from the training corner to the far corner
breaks network a (flatten + linear) but not f (circular padding, polyphase, global max pool).

Skipped, saying why, where Chromium, chromedriver or selenium is missing (.ci/run installs
them). MINICNN_UPDATE_DOCS=1 writes the screenshot to docs/web.png (otherwise to a temporary
folder), so a plain test run leaves the tree clean.
"""

import json
import os
import pathlib
import shutil
import tempfile

import numpy as np
import pytest

from minicnn.export import write_page
from minicnn.export.html import self_test_canvases

DOCS = pathlib.Path(__file__).resolve().parents[1] / "docs"
CHROMIUM = next(filter(None, map(shutil.which, ("chromium", "chromium-browser"))), None)
CHROMEDRIVER = shutil.which("chromedriver")
# The network is closed in CI and nothing may download: no update checks, no sync, no first run.
CHROMIUM_FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--window-size=1300,1000"]
SCALE = 10                  # screen pixels per canvas pixel on the page's input canvas


@pytest.fixture(scope="module")
def browser():
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed "
                                    "(pip install selenium, or pip install -e '.[test]')")
    if CHROMIUM is None or CHROMEDRIVER is None:
        pytest.skip("no Chromium or no chromedriver on PATH (Debian: apt-get install chromium "
                    "chromium-driver; .ci/run does this)")
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="minicnn-chromium-")         # a fresh profile every run
    for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    """The page of the six corner networks, trained on quick budgets (a still fails away from
    the corner and f cannot: the effect does not need long training)."""
    from conftest import run_demo_once
    return run_demo_once(tmp_path_factory, "web", "--quick", "--jobs", "1")


def open_page(driver, path):
    """Load the page and wait for its self-test; returns the #selftest text."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    driver.get(pathlib.Path(path).resolve().as_uri())
    WebDriverWait(driver, 60).until(
        lambda d: not d.find_element(By.ID, "selftest").text.startswith("self-test: running"))
    return driver.find_element(By.ID, "selftest").text


def page_errors(driver):
    """JavaScript errors of the page: SEVERE browser-log entries from its scripts, and what its
    own error handler wrote. Chromium's messages about itself are not the page's."""
    from selenium.webdriver.common.by import By
    logs = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"
            and e.get("source") in ("javascript", "console-api", "network")]
    shown = driver.find_element(By.ID, "errors").text
    return logs + ([shown] if shown else [])


def readout(driver, key):
    """(network `key`'s answer, its probability of the true class) as the page shows them."""
    from selenium.webdriver.common.by import By
    answer = driver.find_element(By.ID, f"answer-{key}").get_attribute("data-class")
    p_true = driver.find_element(By.ID, f"ptrue-{key}").get_attribute("data-value")
    return int(answer), float(p_true)


def drag_digit(driver, start, end, steps=8):
    """Press on the centre of the 8x8 digit whose top-left pixel is at `start` (row, col) of the
    canvas and drag it, with real pointer actions, until that pixel is at `end`."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    canvas = driver.find_element(By.ID, "input")
    half = canvas.size["width"] / 2                                 # offsets are from its centre
    x0, y0 = (start[1] + 4) * SCALE - half, (start[0] + 4) * SCALE - half
    dx, dy = (end[1] - start[1]) * SCALE, (end[0] - start[0]) * SCALE
    chain = ActionChains(driver).move_to_element_with_offset(canvas, int(x0), int(y0))
    chain.click_and_hold()
    for k in range(steps):                                          # steps summing to dx, dy
        chain.move_by_offset(dx * (k + 1) // steps - dx * k // steps,
                             dy * (k + 1) // steps - dy * k // steps)
    chain.release().perform()


def test_page_checks_itself_and_a_fails_where_f_holds(page, browser, tmp_path):
    from selenium.webdriver.common.by import By
    assert page["size"] < 3_000_000
    text = open_page(browser, page["page"])
    assert text.startswith("pass"), text
    redraw_ms = float(browser.find_element(By.ID, "redraw").get_attribute("data-ms"))
    where = browser.find_element(By.ID, "where")
    assert "test digit 3, top-left corner at row 2, col 2" in where.text

    at_corner = {key: readout(browser, key) for key in "af"}
    far = page["setup"].far[0][1]                                   # S - 8: the far corner
    drag_digit(browser, (2, 2), (far, far))
    assert f"row {far}, col {far}" in where.text
    at_far = {key: readout(browser, key) for key in "af"}
    shot = (DOCS if os.environ.get("MINICNN_UPDATE_DOCS") else tmp_path) / "web.png"
    save_screenshot(browser, shot)                            # the digit in the far corner
    assert shot.stat().st_size > 20_000
    browser.find_element(By.ID, "autocentre").click()                # on
    centred = {key: readout(browser, key) for key in "af"}
    assert "Auto-centre: the networks see it at row" in where.text
    drag_digit(browser, (far, far), (2, 2))
    centred_back = {key: readout(browser, key) for key in "af"}
    browser.find_element(By.ID, "autocentre").click()                # off again
    print(json.dumps({"selftest": text, "redraw_ms": redraw_ms, "size": page["size"],
                      "corner": at_corner, "far": at_far, "far_autocentred": centred}))

    assert at_far["a"][1] < at_corner["a"][1]             # a's p(true class) falls
    assert at_far["f"][0] == at_corner["f"][0]            # f's answer does not change
    # auto-centre: the networks see the same canvas wherever the digit is, a's p(true) is back up
    assert centred == centred_back and centred["a"][1] > at_far["a"][1]
    assert page_errors(browser) == []


def test_drawing_on_the_pad_feeds_the_networks(page, browser):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    open_page(browser, page["page"])
    pad = browser.find_element(By.ID, "pad")
    ActionChains(browser).move_to_element_with_offset(pad, -20, -50).click_and_hold() \
        .move_by_offset(40, 0).move_by_offset(-30, 100).release().perform()   # a 7
    assert "your drawing, top-left corner at row 2, col 2" in \
        browser.find_element(By.ID, "where").text
    picture = browser.execute_script("return Array.from(state.picture);")
    assert max(picture) == 1 and sum(v > 0 for v in picture) >= 8
    assert browser.find_element(By.ID, "ptrue-a").text == ""      # a drawing has no true class
    browser.find_element(By.ID, "clear").click()
    assert max(browser.execute_script("return Array.from(state.picture);")) == 0
    assert page_errors(browser) == []


def test_a_changed_trunk_exports_and_a_wrong_logit_fails_the_self_test(browser, tmp_path):
    """Networks with every supported layer and setting (strides, even kernels, both paddings),
    untrained: the page's forward pass agrees with NumPy. Then one embedded logit is moved by
    1e-3 and the self-test must say FAIL."""
    from test_export_html import every_layer_net, flatten_net
    rng = np.random.default_rng(0)
    digits, labels = rng.random((20, 1, 8, 8)).astype(np.float32), np.arange(20) % 10
    networks = {"x": (every_layer_net(1), "every layer", rng.random((3, 3))),
                "y": (flatten_net(2), "flatten head", None)}
    path = tmp_path / "page.html"
    write_page(path, networks, digits, labels, canvas=16, corner=4, grid=[0, 4, 8])
    text = open_page(browser, path)
    assert text.startswith("pass"), text
    assert page_errors(browser) == []

    html = path.read_text(encoding="utf-8")
    logit = json.dumps(float(networks["y"][0].logits(
        self_test_canvases(digits[:10], 16, 4))[0, 0]))     # canvas 0, class 0, as embedded
    assert html.count(logit) == 1
    path.write_text(html.replace(logit, repr(float(logit) + 1e-3)), encoding="utf-8")
    text = open_page(browser, path)
    assert text.startswith("FAIL") and "network y, test canvas 0, class 0" in text, text


def save_screenshot(driver, path):
    """The whole page as a PNG: the window is made as tall as the page first."""
    chrome = driver.execute_script("return window.outerHeight - window.innerHeight")
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1300, height + chrome)
    path.parent.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(path))
    driver.set_window_size(1300, 1000)
