"""The dashboard as an instrument (issue 13): errors next to their control, an honest
boot, the layout, a grid coloured by what the user asks, zoomed and searched, and
axe-core's accessibility rules in every state.

The tests share a few pages (one browser context, so a second tab of the same engine is
read-only), and run in file order. Screenshots of the main states are written to
test-artifacts/dashboard/ (git-ignored) for a person to look at.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator

import pytest
from harness import BOOT_TIMEOUT_MS, ROOT, App, Recorder, Server
from playwright.sync_api import BrowserContext, Page, expect

pytestmark = pytest.mark.browser

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "test-artifacts" / "dashboard"
VIEWPORTS = {"desktop": {"width": 1366, "height": 900}, "wide": {"width": 1920, "height": 1080},
             "phone": {"width": 390, "height": 844}}
TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def context(module_profile: BrowserContext, module_recorder: Recorder) -> Iterator[BrowserContext]:
    """One browser profile for the module (conftest's second on-disk profile: a warm HTTP
    cache, storage emptied before and after the module; ``module_recorder`` fails the
    module's last test on browser errors); the module's tabs close at its end."""
    blank = module_profile.pages[0]
    yield module_profile
    for page in module_profile.pages:
        if page is not blank:
            page.close()


def new_page(context: BrowserContext) -> Page:
    """A tab of the module's profile, at the desktop viewport."""
    page = context.new_page()
    page.set_viewport_size(VIEWPORTS["desktop"])
    page.set_default_timeout(TIMEOUT_MS)
    return page


@pytest.fixture(scope="module")
def desk(context: BrowserContext, server: Server) -> Page:
    """The dashboard of engine "desk", booted (the writer of that engine)."""
    page = new_page(context)
    App(page).load(lambda: page.goto(server.url + "?name=desk&columns=1024"))
    page.wait_for_selector("#dashboard[data-refresh=idle]")
    return page


def by_id(page: Page, test_id: str):
    return page.get_by_test_id(test_id)


def api(page: Page, expression: str):
    """Evaluate an expression over the live API instance, `kg`."""
    return page.evaluate(f"(async () => {{ const kg = window.cortexkg; return {expression}; }})()")


def shot(page: Page, name: str, **options) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), **options)


def axe_violations(page: Page) -> list[str]:
    """axe-core's violations on the page as it is, one line per rule and node."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text())  # through the DevTools protocol: the CSP stays as it is
    return page.evaluate("""async () => {
        const result = await axe.run(document, {resultTypes: ["violations"]});
        return result.violations.flatMap((v) => v.nodes.map((n) =>
            `${v.id} (${v.impact}): ${n.target.join(" ")}: ${n.failureSummary}`));
    }""")


def axe_at_every_viewport(page: Page, state: str) -> None:
    """No axe violation at any of the three viewports; a screenshot of each."""
    found = {}
    for name, size in VIEWPORTS.items():
        page.set_viewport_size(size)
        page.evaluate("new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
        found[name] = axe_violations(page)
        shot(page, f"{state}-{name}")
    page.set_viewport_size(VIEWPORTS["desktop"])
    assert found == {name: [] for name in VIEWPORTS}


def grid_top(page: Page) -> float:
    return page.evaluate("document.querySelector('[data-testid=column-grid]').getBoundingClientRect().top + scrollY")


# --------------------------------------------------------------------------- layout


def test_statistics_and_grid_come_first_with_the_details_beside_the_grid(
    desk: Page, record_property
) -> None:
    page = desk
    tops = {}
    for name, size in VIEWPORTS.items():
        page.set_viewport_size(size)
        page.evaluate("new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
        boxes = page.evaluate("""() => Object.fromEntries(["column-grid", "column-details",
                "stat-cards", "concept-form", "about"].map((id) => {
            const box = document.getElementById(id).getBoundingClientRect();
            return [id, {top: box.top + scrollY, bottom: box.bottom + scrollY, left: box.left, right: box.right}];
        }))""")
        grid, details, stats = boxes["column-grid"], boxes["column-details"], boxes["stat-cards"]
        tops[name] = round(grid["top"])
        assert stats["bottom"] <= grid["top"]
        assert grid["top"] < size["height"] * (0.4 if name != "phone" else 0.8), (name, grid)
        assert boxes["about"]["top"] > grid["bottom"]  # the runtime comes last
        if name != "phone":
            # beside the grid, within its height
            assert details["left"] >= grid["right"] and details["top"] < grid["bottom"], (name, boxes)
    record_property("grid_top_px", tops)
    page.set_viewport_size(VIEWPORTS["desktop"])
    # The runtime is folded into "About" with a short version string.
    version = by_id(page, "about-version").inner_text()
    assert re.fullmatch(r"cortexkg \S+ · Pyodide \S+ · Python \d+\.\d+\.\d+", version), version
    assert by_id(page, "status-python").is_hidden()


def test_the_phone_keeps_the_concept_actions_on_screen(desk: Page) -> None:
    page = desk
    page.set_viewport_size(VIEWPORTS["phone"])
    try:
        page.evaluate("window.scrollTo(0, 0)")
        bar = page.locator("#concept-form").bounding_box()
        assert bar["y"] + bar["height"] <= VIEWPORTS["phone"]["height"] + 1
        assert by_id(page, "allocate-button").is_visible()
        widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert widths[0] <= widths[1], f"the page scrolls sideways: {widths}"
    finally:
        page.set_viewport_size(VIEWPORTS["desktop"])


# ---------------------------------------------------------------- errors in view


@pytest.mark.parametrize(("typed", "message"), [
    ("abc", "“abc” is not a whole number"),
    ("1.5", "1.5 is not a whole number"),
    ("-1", "-1 is below 0"),
    ("4294967296", "4294967296 is above 4,294,967,295"),
])
def test_a_bad_id_on_a_phone_shows_a_plain_message_next_to_the_field(
    desk: Page, typed: str, message: str
) -> None:
    page = desk
    page.set_viewport_size(VIEWPORTS["phone"])
    try:
        page.evaluate("window.scrollTo(0, 0)")
        top_before = grid_top(page)
        field = by_id(page, "concept-input")
        field.fill(typed)
        by_id(page, "allocate-button").click()
        error = by_id(page, "concept-error")
        expect(error).to_contain_text(message)
        assert not re.search(r"\((str|float|int|bool)\)|'", error.inner_text())
        expect(field).to_have_attribute("aria-invalid", "true")
        assert "concept-error" in field.get_attribute("aria-describedby").split()
        # In the viewport, right by the field; the banner stays out of it; nothing moved.
        box, field_box = error.bounding_box(), field.bounding_box()
        assert 0 <= box["y"] and box["y"] + box["height"] <= VIEWPORTS["phone"]["height"], box
        assert abs(box["y"] - (field_box["y"] + field_box["height"])) < 80, (box, field_box)
        assert by_id(page, "error-banner").is_hidden()
        assert grid_top(page) == top_before
        if typed == "abc":
            shot(page, "error-phone")
        assert api(page, "kg.getAllocatedCount()") == 0
        # A good id clears the mark.
        field.fill("5")
        by_id(page, "allocate-button").click()
        expect(by_id(page, "concept-result")).to_have_text("Concept 5 is in column 0.")
        expect(field).not_to_have_attribute("aria-invalid", "true")
        expect(error).to_have_text("")
        api(page, "kg.deallocateConcept(5)")
    finally:
        page.set_viewport_size(VIEWPORTS["desktop"])


def test_out_of_range_strength_and_a_zero_column_engine_are_refused_next_to_their_field(
    desk: Page,
) -> None:
    page = desk
    by_id(page, "concept-input").fill("9")
    by_id(page, "allocate-button").click()
    expect(by_id(page, "concept-result")).to_have_text("Concept 9 is in column 0.")
    by_id(page, "strength-input").fill("2")
    by_id(page, "activate-button").click()
    expect(by_id(page, "strength-error")).to_contain_text("A strength of 2 is above 1")
    expect(by_id(page, "strength-input")).to_have_attribute("aria-invalid", "true")
    assert api(page, "kg.getColumn(0)")["usage"] == 0  # not activated, not even clamped

    by_id(page, "columns-input").fill("0")
    by_id(page, "reset-button").click()  # no dialog: refused before asking
    expect(by_id(page, "engine-error")).to_contain_text("An engine needs at least 1 column")
    expect(by_id(page, "columns-input")).to_have_attribute("aria-invalid", "true")
    assert api(page, "kg.config.columns") == 1024
    by_id(page, "strength-input").fill("0.25")


def test_the_error_state_has_no_axe_violation(desk: Page) -> None:
    page = desk
    by_id(page, "concept-input").fill("abc")
    by_id(page, "allocate-button").click()
    expect(by_id(page, "concept-error")).not_to_have_text("")
    by_id(page, "batch-input").fill("50-10")
    by_id(page, "batch-allocate-button").click()
    expect(by_id(page, "batch-error")).to_contain_text("Invalid range 50-10")
    axe_at_every_viewport(page, "error")


def test_the_loaded_state_has_no_axe_violation(desk: Page) -> None:
    axe_at_every_viewport(desk, "loaded")


def test_a_dark_colour_scheme_is_honoured_without_axe_violations(desk: Page) -> None:
    page = desk
    page.emulate_media(color_scheme="dark")
    try:
        background = page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
        channels = [int(c) for c in re.findall(r"\d+", background)[:3]]
        assert max(channels) < 64, background
        assert axe_violations(page) == []
        shot(page, "loaded-dark-desktop")
    finally:
        page.emulate_media(color_scheme="light")


# ------------------------------------------------------------ boot, read-only, failed


def test_a_second_tab_boots_honestly_and_is_read_only(
    desk: Page, context: BrowserContext, server: Server
) -> None:
    page = new_page(context)
    page.add_init_script("""
        window.__steps = [];
        new MutationObserver(() => {
            const bar = document.getElementById("boot-progress");
            if (bar) window.__steps.push([bar.dataset.step ?? null, bar.hasAttribute("value")]);
        }).observe(document, {subtree: true, attributes: true, attributeFilter: ["data-step", "value"]});
    """)
    page.goto(server.url + "?name=desk")
    # Booting: the controls refuse visibly, and the line says why.
    button = by_id(page, "allocate-button")
    expect(button).to_be_disabled()
    expect(by_id(page, "boot-status")).to_contain_text("controls unlock when it is ready")
    assert page.evaluate("document.documentElement.dataset.ready") != "true"
    by_id(page, "concept-input").evaluate("(input) => { input.disabled || (input.value = '77'); }")
    button.click(force=True)  # a click on a disabled button does nothing
    busy = axe_violations(page)
    was_booting = page.evaluate("document.documentElement.dataset.ready") != "true"
    shot(page, "booting-desktop")
    App(page).load(lambda: None)
    assert was_booting, "the page was ready before axe ran: the busy state was not checked"
    assert busy == []
    steps = page.evaluate("window.__steps")
    # Loading Pyodide (step 1) moves the bar with the runtime's bytes (test_boot checks
    # how far); later steps move it by one.
    assert ["1", True] in steps, steps
    assert any(step not in (None, "0", "1") and has_value for step, has_value in steps), steps
    assert api(page, "kg.getAllocationInfo(77)") is None

    # Read-only: every mutating control is disabled, and nothing tells the user to use one.
    expect(by_id(page, "readonly-banner")).to_be_visible()
    expect(button).to_be_disabled()
    expect(by_id(page, "reset-button")).to_be_disabled()
    assert "Create new engine" not in by_id(page, "storage-notice").inner_text()
    axe_at_every_viewport(page, "read-only")
    page.close()


def test_a_zero_column_url_fails_visibly_and_the_failed_state_has_no_axe_violation(
    context: BrowserContext, server: Server
) -> None:
    page = new_page(context)
    page.goto(server.url + "?name=zero&columns=0")
    expect(by_id(page, "error-message")).to_contain_text("an engine needs at least 1 column")
    expect(by_id(page, "boot-status")).to_have_text("The engine could not be created.")
    expect(by_id(page, "allocate-button")).to_be_disabled()
    axe_at_every_viewport(page, "failed")
    page.close()


# ------------------------------------------------------------------ the grid


def canvas_digest(page: Page) -> str:
    """A digest of the grid canvas's pixels."""
    return page.evaluate("""() => {
        const canvas = document.querySelector("[data-testid=column-grid]");
        const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
        let a = 1, b = 0;
        for (let i = 0; i < data.length; i++) { a = (a + data[i]) % 65521; b = (b + a) % 65521; }
        return `${b}:${a}`;
    }""")


def test_each_colour_mode_paints_different_pixels_with_its_own_legend(desk: Page) -> None:
    page = desk
    # A prepared engine: affinity (confidence varies), refractory columns, varied usage.
    api(page, "kg.reset({columns: 64, strategy: 'affinity', dim: 4, seed: 3, refractoryMs: 600000})")
    api(page, "kg.allocateBatch(Array.from({length: 10}, (_, i) => i + 1))")
    # a later allocation time for the second half (ages differ by at least these 20 ms)
    api(page, "new Promise((r) => setTimeout(r, 20)).then(() => kg.allocateBatch(Array.from({length: 10}, (_, i) => i + 11)))")
    api(page, "Promise.all([1, 2, 2, 3, 3, 3].map((id) => kg.activateConcept(id, 0.1)))")
    api(page, "kg.deallocateBatch([17, 18, 19, 20])")
    page.wait_for_selector("[data-testid=column-grid][data-refractory='4'][data-allocated='16']")
    select = by_id(page, "colour-select")
    digests, legends = {}, {}
    for mode in ("state", "activation", "usage", "confidence", "age", "refractory"):
        select.select_option(mode)
        page.wait_for_selector(f"[data-testid=grid-legend][data-mode={mode}]")
        page.wait_for_selector("#dashboard[data-refresh=idle]")
        digests[mode] = canvas_digest(page)
        legends[mode] = by_id(page, "grid-legend").inner_text()
        by_id(page, "column-grid").screenshot(path=str(ARTIFACTS / f"colour-{mode}.png"))
    assert len(set(digests.values())) == len(digests), digests
    assert len(set(legends.values())) == len(legends), legends
    assert "Uses of each column" in legends["usage"] and "3 uses" in legends["usage"]
    assert "Time left before a released column is available" in legends["refractory"]
    select.select_option("state")


def test_activation_fades_on_the_grid_as_it_decays(desk: Page) -> None:
    page = desk
    api(page, "kg.reset({columns: 64, strategy: 'first_fit', dim: 0, refractoryMs: 0, activationHalfLifeMs: 500})")
    api(page, "kg.allocateBatch([1, 2, 3])")
    page.wait_for_selector("[data-testid=column-grid][data-allocated='3']")
    by_id(page, "colour-select").select_option("activation")
    page.wait_for_selector("#dashboard[data-refresh=idle]")
    first = canvas_digest(page)
    # No call changes anything: the grid repaints the decay by itself.
    for _ in range(50):
        if canvas_digest(page) != first:
            break
        page.wait_for_timeout(100)
    assert canvas_digest(page) != first
    by_id(page, "column-grid").scroll_into_view_if_needed()
    page.mouse.move(*point_of(page, 0))
    tooltip = by_id(page, "column-tooltip")
    expect(tooltip).to_contain_text("Concept 1 · allocated")
    activation = float(re.search(r"Activation (\d\.\d+)", tooltip.inner_text())[1])
    assert activation < 1
    by_id(page, "colour-select").select_option("state")


def test_clicking_a_column_fills_the_concept_field_and_details_act_on_it(desk: Page) -> None:
    page = desk
    api(page, "kg.reset({columns: 64, strategy: 'affinity', dim: 4, seed: 3, refractoryMs: 600000, activationHalfLifeMs: 0})")
    api(page, "kg.allocateBatch(Array.from({length: 10}, (_, i) => i + 1))")
    # Under affinity an allocation reports the score that chose its column.
    by_id(page, "concept-input").fill("30")
    by_id(page, "allocate-button").click()
    score = api(page, "kg.getAllocationInfo(30).then((c) => kg.getColumn(c)).then((c) => c.confidence)")
    expect(by_id(page, "concept-result")).to_contain_text(f"(affinity score {score:.3f}).")
    column = api(page, "kg.getAllocationInfo(2)")
    by_id(page, "column-grid").scroll_into_view_if_needed()
    point = page.evaluate("""(column) => {
        const canvas = document.querySelector("[data-testid=column-grid]");
        const box = canvas.getBoundingClientRect();
        const zoom = Number(canvas.dataset.zoom), cols = Math.ceil(Math.sqrt(Number(canvas.dataset.columns)));
        return [box.left + canvas.clientLeft + (column % cols + 0.5 - Number(canvas.dataset.viewX)) * zoom,
                box.top + canvas.clientTop + (Math.floor(column / cols) + 0.5 - Number(canvas.dataset.viewY)) * zoom];
    }""", column)
    by_id(page, "concept-input").fill("")
    page.mouse.click(*point)
    expect(by_id(page, "column-details")).to_have_attribute("data-column", str(column))
    expect(by_id(page, "concept-input")).to_have_value("2")
    # Under affinity the details name the score that chose the column.
    expect(by_id(page, "column-details")).to_contain_text("Affinity score")
    usage = api(page, f"kg.getColumn({column})")["usage"]
    by_id(page, "details-activate").click()
    expect(by_id(page, "column-details").locator("[data-field=usage]")).to_have_text(str(usage + 1))
    by_id(page, "details-deallocate").click()
    expect(by_id(page, "column-details").locator("[data-field=state]")).to_have_text("refractory")
    assert api(page, "kg.getAllocationInfo(2)") is None
    shot(page, "details-desktop")


def test_optimize_under_affinity_warns_first(desk: Page) -> None:
    page = desk
    messages = []
    page.once("dialog", lambda dialog: (messages.append(dialog.message), dialog.dismiss()))
    by_id(page, "optimize-button").click()
    expect(by_id(page, "optimize-result")).to_have_text("Not optimized: the receptive-field layout is kept.")
    assert "gives up the receptive-field layout" in messages[0]
    assert api(page, "kg.getStats()")["optimization_cycles"] == 0


@pytest.fixture(scope="module")
def big(context: BrowserContext, server: Server) -> Page:
    """A 1,000,000-column engine with concepts 0..299,999 in columns 0..299,999."""
    page = new_page(context)
    page.set_default_timeout(4 * BOOT_TIMEOUT_MS)
    App(page).load(lambda: page.goto(server.url + "?name=big&columns=1000000"))
    api(page, "kg.allocateBatch(Uint32Array.from({length: 300000}, (_, i) => i), {columnar: true}).then(() => 0)")
    page.wait_for_selector("[data-testid=column-grid][data-allocated='300000']")
    return page


def point_of(page: Page, column: int) -> tuple[float, float]:
    """Viewport coordinates of a column's centre in the grid's current view."""
    return page.evaluate("""(column) => {
        const canvas = document.querySelector("[data-testid=column-grid]");
        const box = canvas.getBoundingClientRect();
        const zoom = Number(canvas.dataset.zoom), cols = Math.ceil(Math.sqrt(Number(canvas.dataset.columns)));
        return [box.left + canvas.clientLeft + (column % cols + 0.5 - Number(canvas.dataset.viewX)) * zoom,
                box.top + canvas.clientTop + (Math.floor(column / cols) + 0.5 - Number(canvas.dataset.viewY)) * zoom];
    }""", column)


def test_at_a_million_columns_zooming_makes_any_column_hoverable(big: Page) -> None:
    page = big
    canvas = by_id(page, "column-grid")
    canvas.scroll_into_view_if_needed()
    assert float(canvas.get_attribute("data-zoom")) < 1  # a cell is smaller than a pixel
    target = 777_777
    for _ in range(12):  # wheel notches over the target until a cell is pixels wide
        page.mouse.move(*point_of(page, target))
        page.mouse.wheel(0, -300)
        if float(canvas.get_attribute("data-zoom")) >= 8:
            break
    assert float(canvas.get_attribute("data-zoom")) >= 8
    expect(by_id(page, "grid-minimap")).to_be_visible()
    page.mouse.move(*point_of(page, target))
    tooltip = by_id(page, "column-tooltip")
    expect(tooltip).to_contain_text("Column 777,777")
    expect(tooltip).to_contain_text("No concept · available")
    shot(page, "zoomed-1m-desktop")
    # Drag pans: the view moves by the drag.
    x_before = float(canvas.get_attribute("data-view-x"))
    x, y = point_of(page, target)
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x - 80, y, steps=4)
    page.mouse.up()
    assert float(canvas.get_attribute("data-view-x")) > x_before
    # Keys: 0 fits the whole grid again (the minimap goes), + zooms in.
    canvas.focus()
    page.keyboard.press("0")
    expect(canvas).to_have_attribute("data-fit", "true")
    expect(by_id(page, "grid-minimap")).to_be_hidden()
    page.keyboard.press("+")
    expect(canvas).to_have_attribute("data-fit", "false")
    by_id(page, "zoom-fit").click()
    # A pinch (two touch pointers moving apart, 40 px to 200 px) zooms in about five times
    # and selects nothing.
    fit = float(canvas.get_attribute("data-zoom"))
    page.evaluate("""() => {
        const canvas = document.querySelector("[data-testid=column-grid]");
        const box = canvas.getBoundingClientRect();
        const touch = (type, pointerId, x) => canvas.dispatchEvent(new PointerEvent(type, {
            pointerId, pointerType: "touch", isPrimary: pointerId === 1, bubbles: true,
            clientX: box.left + x, clientY: box.top + 100}));
        touch("pointerdown", 1, 100);
        touch("pointerdown", 2, 140);
        for (let x = 170; x <= 300; x += 30) touch("pointermove", 2, x);
        touch("pointerup", 2, 300);
        touch("pointerup", 1, 100);
    }""")
    assert float(canvas.get_attribute("data-zoom")) > 4 * fit
    assert canvas.get_attribute("data-selected") in (None, "")
    by_id(page, "zoom-fit").click()


def test_search_selects_the_concepts_column_and_brings_it_into_view(big: Page) -> None:
    page = big
    by_id(page, "find-input").fill("299998")
    by_id(page, "find-button").click()
    canvas = by_id(page, "column-grid")
    expect(canvas).to_have_attribute("data-selected", "299998")
    expect(by_id(page, "column-details")).to_have_attribute("data-column", "299998")
    expect(by_id(page, "selection-marker")).to_be_visible()
    page.mouse.move(*point_of(page, 299_998))
    expect(by_id(page, "column-tooltip")).to_contain_text("Column 299,998")
    expect(by_id(page, "column-tooltip")).to_contain_text("Concept 299998 · allocated")
    shot(page, "search-1m-desktop")

    by_id(page, "find-input").fill("300001")
    by_id(page, "find-button").click()
    expect(by_id(page, "find-error")).to_have_text("Concept 300001 is not allocated.")
    expect(by_id(page, "find-input")).to_have_attribute("aria-invalid", "true")

    # The table's search selects in the grid too.
    by_id(page, "table-search").fill("12345")
    by_id(page, "table-search-button").click()
    expect(canvas).to_have_attribute("data-selected", "12345")


# ------------------------------------------------------------------ smaller items


def test_a_new_engine_clears_the_last_ones_batch_status_and_the_log_survives_a_reload(
    desk: Page,
) -> None:
    page = desk
    by_id(page, "batch-input").fill("ten")
    by_id(page, "batch-allocate-button").click()
    expect(by_id(page, "batch-status")).to_have_attribute("data-state", "failed")
    api(page, "kg.reset({columns: 128, strategy: 'first_fit', dim: 0, refractoryMs: 0})")
    expect(by_id(page, "batch-status")).to_have_text("No batch running.")
    expect(by_id(page, "batch-error")).to_have_text("")
    page.wait_for_selector("#dashboard[data-refresh=idle]")
    before = by_id(page, "event-log").locator("li .message").all_inner_texts()
    App(page).load(page.reload)
    after = by_id(page, "event-log").locator("li .message").all_inner_texts()
    assert set(before) <= set(after)
    assert "The engine was replaced by a new, empty one" in after


def test_url_parameters_a_stored_engine_ignores_come_with_a_name_to_use(desk: Page, server: Server) -> None:
    page = desk
    App(page).load(lambda: page.goto(server.url + "?name=desk&columns=4096"))
    notice = by_id(page, "storage-notice")
    expect(notice).to_contain_text("these URL parameters were ignored: columns")
    expect(notice).to_contain_text("?name=lab&columns=4096")


def test_the_latency_chart_keeps_batch_items_apart_from_single_calls(desk: Page) -> None:
    page = desk
    # Under affinity (32 dimensions) a batch item costs about half a single call, so the
    # batch's grey bars stand pixels tall whatever the scale; under first fit an item
    # costs a tenth of a call or less, and one slow call could shrink them below a pixel.
    api(page, "kg.reset({columns: 128, strategy: 'affinity', dim: 32})")
    api(page, "kg.allocateBatch(Array.from({length: 50}, (_, i) => 10000 + i))")
    api(page, "(async () => { for (let i = 0; i < 5; i++) await kg.allocateConcept(20000 + i); })()")
    # the engine says which times are a batch's mean: the page needs no guess
    kinds = api(page, "kg.getAllocationTimeKinds().then((k) => [k.constructor.name, Array.from(k)])")
    assert kinds == ["Uint8Array", [1] * 50 + [0] * 5]
    times = api(page, "kg.getAllocationTimes().then(Array.from)")
    assert len(set(times[:50])) == 1  # one batch, timed as a whole: its items at its mean
    summary = by_id(page, "latency-summary")
    expect(summary).to_have_attribute("data-samples", "55")
    expect(summary).to_have_attribute("data-batch-items", "50")
    expect(summary).to_have_attribute("data-calls", "5")
    expect(summary).to_contain_text("Last 5 allocations one call each: median ")
    expect(summary).to_contain_text("50 batch items at their batch's mean (grey): ")
    assert "µs" not in summary.inner_text()
    # the chart's bars: grey for the batch's items, blue for the single calls
    chart = by_id(page, "latency-chart")
    chart.scroll_into_view_if_needed()
    shot(page, "latency-after-batch")
    colours = chart.evaluate("""(canvas) => {
        const ctx = canvas.getContext("2d");
        const seen = new Set();
        const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
        for (let i = 0; i < data.length; i += 4) seen.add(`${data[i]},${data[i + 1]},${data[i + 2]}`);
        return [...seen];
    }""")
    assert {"140,150,163", "37,99,235"} <= set(colours)  # batch grey, call blue

    # The series over time, and its CSV export.
    expect(by_id(page, "series-summary")).to_contain_text("allocated (solid) 42.97 %")
    with page.expect_download() as download:
        by_id(page, "series-csv").click()
    lines = Path(download.value.path()).read_text().splitlines()
    assert lines[0] == "time,columns,allocated,free,fragmentation,average_allocation_ms"
    assert lines[-1].split(",")[1:4] == ["128", "55", "73"]
    with page.expect_download() as download:
        by_id(page, "grid-png").click()
    assert Path(download.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_each_statistic_explains_itself_on_focus(desk: Page) -> None:
    page = desk
    help_text = page.locator("#help-fragmentation")
    assert help_text.is_hidden()
    by_id(page, "stat-fragmentation").focus()
    expect(help_text).to_be_visible()
    expect(help_text).to_contain_text("longest run of free columns")
    assert by_id(page, "stat-fragmentation").get_attribute("aria-describedby") == "help-fragmentation"
    by_id(page, "stat-refractory").hover()
    expect(page.locator("#help-refractory")).to_be_visible()
