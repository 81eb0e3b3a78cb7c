"""The dashboard's side of persistence (issue 4): what a person sees and does about the
stored state. Export and import through the page's own controls, what a reload restored,
a second tab that is read-only and takes over, refused stored data (raw export, reset),
writes failing under a small quota and recovering, the persist() answer, and flushing
when the page is hidden or left.

Actions go through the page's controls; page.evaluate only damages the database behind
the page's back, reads it raw for comparison, or stubs what a test must control. Every
context fails the test on a console error or an off-origin request.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from harness import RAW_JS, App, Server, accept_next_dialog, dismiss_next_dialog, empty_storage
from playwright.sync_api import BrowserContext, Page, expect

pytestmark = pytest.mark.browser

UPDATE_TIMEOUT_MS = 30_000
TAKEOVER_TIMEOUT_MS = 30_000

# Every control that changes the engine's state.
MUTATING = ["allocate-button", "deallocate-button", "activate-button", "batch-allocate-button",
            "batch-deallocate-button", "optimize-button", "reset-button", "import-input"]
STATS = ["columns", "allocated", "free", "refractory", "efficiency", "avg-time", "fragmentation",
         "optimizations", "total-allocations", "total-deallocations"]


def open_dashboard(context: BrowserContext, server: Server, query: str = "",
                   page: Page | None = None) -> Page:
    """The dashboard at server.url + query in a new tab of context (or in page), booted."""
    page = page or context.new_page()
    page.set_default_timeout(UPDATE_TIMEOUT_MS)
    App(page).load(lambda: page.goto(server.url + query))
    return page


def by_id(page: Page, test_id: str):
    return page.get_by_test_id(test_id)


def wait_stat(page: Page, name: str, value: object) -> None:
    page.wait_for_selector(f"[data-testid='stat-{name}'][value='{value}']")


def settle(page: Page) -> None:
    """Wait until the page shows the engine's latest state (no refresh in flight)."""
    page.wait_for_selector("html[data-ready='true'] #dashboard[data-refresh=idle]")


def run_batch(page: Page, text: str, button: str = "batch-allocate-button") -> None:
    by_id(page, "batch-input").fill(text)
    by_id(page, button).click()
    page.wait_for_selector(
        "[data-testid=batch-status]:is([data-state=done], [data-state=partial], [data-state=failed])",
        timeout=UPDATE_TIMEOUT_MS * 4)


def concept_action(page: Page, button: str, concept: int) -> None:
    by_id(page, "concept-input").fill(str(concept))
    by_id(page, button).click()
    expect(by_id(page, "concept-result")).to_contain_text(f"Concept {concept}")


def stat_values(page: Page) -> dict[str, str]:
    return {name: by_id(page, f"stat-{name}").get_attribute("value") for name in STATS}


def table_rows(page: Page) -> list[list[str]]:
    """Every row of the allocations table, all pages (oldest first)."""
    settle(page)
    rows = []
    if by_id(page, "page-first").get_attribute("aria-disabled") != "true":
        by_id(page, "page-first").click()
        expect(by_id(page, "table-summary")).to_contain_text("Page 1 of")
    while True:
        settle(page)
        rows += page.evaluate("""() => [...document.querySelectorAll(
            "[data-testid=allocations-table] tbody tr")].map((tr) => [...tr.cells].map((td) => td.textContent))""")
        summary = by_id(page, "table-summary").inner_text()
        match = re.match(r"Page ([\d,]+) of ([\d,]+)", summary)
        if match is None or match[1] == match[2]:
            return rows
        by_id(page, "page-next").click()
        expect(by_id(page, "table-summary")).not_to_have_text(summary)


def log_text(page: Page) -> str:
    return by_id(page, "event-log").inner_text()




# --------------------------------------------------------------------- export and import


def test_export_downloads_a_file_that_imports_into_a_fresh_profile_and_tampering_is_refused(
    context: BrowserContext, server: Server, tmp_path: Path
) -> None:
    source = open_dashboard(context, server, "?name=source&columns=64&strategy=affinity&dim=3&seed=5")
    run_batch(source, "1-30")
    concept_action(source, "deallocate-button", 4)
    concept_action(source, "deallocate-button", 9)
    concept_action(source, "activate-button", 12)
    warnings = accept_next_dialog(source)  # under affinity Optimize asks first
    by_id(source, "optimize-button").click()
    expect(by_id(source, "optimize-result")).to_contain_text("Moved")
    assert "receptive-field layout" in warnings[0]
    concept_action(source, "allocate-button", 1000)
    wait_stat(source, "allocated", 29)
    settle(source)
    expected_stats, expected_rows = stat_values(source), table_rows(source)
    assert len(expected_rows) == 29

    with source.expect_download() as download_info:
        by_id(source, "export-button").click()
    download = download_info.value
    assert re.fullmatch(r"cortexkg-source-\d{4}-\d{2}-\d{2}-\d{6}\.ckg", download.suggested_filename)
    exported = Path(download.path()).read_bytes()
    expect(by_id(source, "exchange-result")).to_contain_text(f"Exported {download.suggested_filename}")
    expect(by_id(source, "event-log")).to_contain_text(f"The state was exported to {download.suggested_filename}")

    # The source closes and the profile's storage is emptied (as a fresh profile's: the
    # same warm HTTP cache, no database); its dashboard, an empty engine of another
    # configuration, imports the file.
    source.close()
    empty_storage(context, server)
    target = open_dashboard(context, server)
    wait_stat(target, "columns", 1024)
    assert target.evaluate("async () => (await indexedDB.databases()).map((d) => d.name)") \
        == ["cortexkg:default"]
    file = tmp_path / download.suggested_filename
    file.write_bytes(exported)
    by_id(target, "import-input").set_input_files(file)
    expect(by_id(target, "event-log")).to_contain_text(f'Imported "{file.name}"')
    expect(by_id(target, "event-log")).to_contain_text("29 allocated concepts of 64 columns")
    wait_stat(target, "columns", 64)
    wait_stat(target, "allocated", 29)
    settle(target)
    assert stat_values(target) == expected_stats
    assert table_rows(target) == expected_rows
    assert by_id(target, "error-banner").is_hidden()
    expect(by_id(target, "status-engine")).to_contain_text("64 columns · affinity · dim 3 · seed 5")
    expect(by_id(target, "columns-input")).to_have_value("64")
    assert "columns=64" in target.url and "strategy=affinity" in target.url

    # A tampered file is refused with the reason, and nothing changes.
    tampered = bytearray(exported)
    tampered[len(tampered) // 2] ^= 1
    questions = accept_next_dialog(target)
    by_id(target, "import-input").set_input_files(
        {"name": "tampered.ckg", "mimeType": "application/octet-stream", "buffer": bytes(tampered)})
    # next to the import control, which it is about
    expect(by_id(target, "exchange-error")).to_have_text(
        'The file "tampered.ckg" was not imported, nothing changed: '
        "Export checksum mismatch: the file was changed or damaged")
    assert "29 allocated concepts" in questions[0]
    settle(target)
    assert stat_values(target) == expected_stats
    assert table_rows(target) == expected_rows

    # And the imported state is the stored one.
    App(target).load(target.reload)
    wait_stat(target, "allocated", 29)
    assert stat_values(target) == expected_stats
    expect(by_id(target, "storage-restored")).to_have_attribute("data-allocated", "29")


def test_importing_over_allocations_asks_first_and_cancelling_changes_nothing(
    context: BrowserContext, server: Server
) -> None:
    page = open_dashboard(context, server, "?name=ask&columns=16")
    run_batch(page, "1-3")
    with page.expect_download() as download_info:
        by_id(page, "export-button").click()
    exported = Path(download_info.value.path()).read_bytes()
    run_batch(page, "4-5")
    wait_stat(page, "allocated", 5)
    with dismiss_next_dialog(page) as questions:
        by_id(page, "import-input").set_input_files(
            {"name": "three.ckg", "mimeType": "application/octet-stream", "buffer": exported})
    assert questions[0].startswith("Replace the engine's state (5 allocated concepts)")
    wait_stat(page, "allocated", 5)
    assert "Imported" not in log_text(page)
    # accepted, the same file replaces the state
    page.once("dialog", lambda dialog: dialog.accept())
    by_id(page, "import-input").set_input_files(
        {"name": "three.ckg", "mimeType": "application/octet-stream", "buffer": exported})
    wait_stat(page, "allocated", 3)
    expect(by_id(page, "event-log")).to_contain_text('Imported "three.ckg"')


# ------------------------------------------------------------------------------ reload


def test_a_reload_keeps_the_allocations_and_shows_what_recovery_restored(
    context: BrowserContext, server: Server
) -> None:
    page = open_dashboard(context, server, "?name=reload&columns=100")
    expect(by_id(page, "storage-restored")).to_have_text("Nothing was stored: a new engine")
    expect(by_id(page, "storage-restored")).to_have_attribute("data-restored", "false")
    run_batch(page, "1-40")
    concept_action(page, "deallocate-button", 3)
    by_id(page, "optimize-button").click()                   # moves concepts: a snapshot
    expect(by_id(page, "optimize-result")).to_contain_text("Moved")
    concept_action(page, "allocate-button", 500)             # and journal records after it
    concept_action(page, "activate-button", 7)
    wait_stat(page, "allocated", 40)
    settle(page)
    stats, rows = stat_values(page), table_rows(page)
    # what is stored right now (idle compaction may fold the journal into the snapshot)
    stored = page.evaluate(RAW_JS, "cortexkg:reload")
    records = len(stored["journal"])

    App(page).load(page.reload)
    restored = by_id(page, "storage-restored")
    expect(restored).to_have_attribute("data-allocated", "40")
    expect(restored).to_have_attribute("data-snapshot", "true")
    expect(restored).to_have_attribute("data-records", str(records))
    expect(restored).to_have_attribute("data-columns", "100")
    plural = "" if records == 1 else "s"
    expect(restored).to_have_text(re.compile(
        rf"^40 allocated concepts of 100 columns: a snapshot and {records} journal record{plural} "
        r"replayed( in [\d.]+ ms)?$"))
    expect(by_id(page, "storage-notice")).to_contain_text(
        f'The engine "reload" stored in this browser was loaded (40 allocated concepts of 100 columns: '
        f"a snapshot and {records} journal record{plural} replayed).")
    wait_stat(page, "allocated", 40)
    settle(page)
    assert stat_values(page) == stats
    assert table_rows(page) == rows
    expect(by_id(page, "storage-status")).to_have_attribute("data-saved", "true")


# ---------------------------------------------------------------------------- two tabs


def test_a_second_tab_is_read_only_follows_the_writer_and_takes_over_when_it_closes(
    context: BrowserContext, server: Server
) -> None:
    writer = open_dashboard(context, server, "?name=tabs&columns=64")
    assert by_id(writer, "readonly-banner").is_hidden()
    reader = open_dashboard(context, server, "?name=tabs&columns=64")
    banner = by_id(reader, "readonly-banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text('another tab is writing to "tabs"')
    expect(by_id(reader, "storage-status")).to_have_attribute("data-mode", "reader")
    for control in MUTATING:
        expect(by_id(reader, control)).to_be_disabled()
        expect(by_id(writer, control)).to_be_enabled()
    expect(by_id(reader, "export-button")).to_be_enabled()  # reading is not writing
    expect(by_id(reader, "table-search")).to_be_enabled()

    # The reader follows what the writer does, live.
    concept_action(writer, "allocate-button", 42)
    run_batch(writer, "100-109")
    wait_stat(reader, "allocated", 11)
    reader.wait_for_selector("[data-testid=column-grid][data-allocated='11']")
    settle(writer)
    assert table_rows(reader) == table_rows(writer)
    assert stat_values(reader) == stat_values(writer)
    expect(by_id(reader, "event-log")).to_contain_text("Another tab changed the engine")

    # Even a new engine made in the writer: other columns, another configuration.
    by_id(writer, "columns-input").fill("144")
    writer.once("dialog", lambda dialog: dialog.accept())
    by_id(writer, "reset-button").click()
    wait_stat(writer, "columns", 144)
    wait_stat(reader, "columns", 144)
    wait_stat(reader, "allocated", 0)
    expect(by_id(reader, "status-engine")).to_contain_text("144 columns")
    reader.wait_for_selector("[data-testid=column-grid][data-columns='144']")
    concept_action(writer, "allocate-button", 7)
    wait_stat(reader, "allocated", 1)

    # The writer closes: the reader takes over, and its controls work.
    writer.close()
    expect(banner).to_be_hidden(timeout=TAKEOVER_TIMEOUT_MS)
    expect(by_id(reader, "storage-status")).to_have_attribute("data-mode", "writer")
    for control in MUTATING:
        expect(by_id(reader, control)).to_be_enabled()
    expect(by_id(reader, "event-log")).to_contain_text("this tab took over")
    concept_action(reader, "allocate-button", 8)
    wait_stat(reader, "allocated", 2)
    App(reader).load(reader.reload)
    wait_stat(reader, "allocated", 2)
    expect(by_id(reader, "storage-restored")).to_have_attribute("data-allocated", "2")


# -------------------------------------------------------------------- refused stored data


def test_refused_stored_data_offers_raw_export_and_reset_and_is_left_untouched(
    context: BrowserContext, server: Server
) -> None:
    page = open_dashboard(context, server, "?name=damaged&columns=32")
    run_batch(page, "1-4")
    concept_action(page, "deallocate-button", 2)
    wait_stat(page, "allocated", 3)
    # Leave the dashboard (its worker closes the database), then damage the meta record.
    page.goto(server.url + "api.html")
    page.evaluate("""async (name) => {
        const db = await new Promise((ok, fail) => { const r = indexedDB.open(name); r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });
        const tx = db.transaction('meta', 'readwrite');
        const complete = new Promise((ok) => { tx.oncomplete = ok; });
        const r = tx.objectStore('meta').get('meta');
        r.onsuccess = () => { const meta = r.result; meta.schema = 7; tx.objectStore('meta').put(meta, 'meta'); };
        await complete;
        db.close();
    }""", "cortexkg:damaged")
    before = page.evaluate(RAW_JS, "cortexkg:damaged")

    open_dashboard(context, server, "?name=damaged&columns=32", page=page)
    failed = by_id(page, "storage-failed")
    expect(failed).to_be_visible()
    expect(by_id(page, "storage-failed-message")).to_contain_text(
        'The stored data of "damaged" has schema 7, expected 2.')
    expect(failed).to_contain_text("Export the raw data to keep a copy, then reset the engine")
    assert by_id(page, "error-banner").is_hidden()
    status = by_id(page, "storage-status")
    expect(status).to_have_attribute("data-mode", "failed")
    expect(status).to_have_attribute("data-saved", "false")
    expect(status).to_contain_text("schema 7")
    expect(by_id(page, "storage-restored")).to_have_text("Nothing: the stored data was refused")
    for control in ["allocate-button", "batch-allocate-button", "optimize-button", "export-button"]:
        expect(by_id(page, control)).to_be_disabled()
    for control in ["reset-button", "import-input", "export-raw-button", "storage-reset-button"]:
        expect(by_id(page, control)).to_be_enabled()

    # The raw data, as stored, downloads as JSON with its bytes as plain arrays.
    with page.expect_download() as download_info:
        by_id(page, "export-raw-button").click()
    download = download_info.value
    assert re.fullmatch(r"cortexkg-damaged-raw-\d{4}-\d{2}-\d{2}-\d{6}\.json", download.suggested_filename)
    raw = json.loads(Path(download.path()).read_text())
    assert sorted(raw) == ["journal", "meta", "snapshots"]
    assert raw["meta"][0][0] == "meta" and raw["meta"][0][1]["schema"] == 7
    assert [key for key, _ in raw["journal"]] == [1, 2]
    assert [value["method"] for _, value in raw["journal"]] == ["allocate_batch", "deallocate_concept"]
    assert json.dumps(raw["journal"]) == json.dumps(
        [[json.loads(v)["seq"], json.loads(v)] for v in before["journal"]])
    expect(by_id(page, "event-log")).to_contain_text(f"was exported to {download.suggested_filename}")
    assert page.evaluate(RAW_JS, "cortexkg:damaged") == before

    # Reset, offered right there and confirmed, is the way out.
    questions = accept_next_dialog(page)
    by_id(page, "storage-reset-button").click()
    expect(failed).to_be_hidden()
    assert 'Reset the engine "damaged"?' in questions[0] and "Export the raw data first" in questions[0]
    expect(status).to_have_attribute("data-mode", "writer")
    expect(status).to_have_attribute("data-saved", "true")
    expect(by_id(page, "allocate-button")).to_be_enabled()
    expect(by_id(page, "export-button")).to_be_enabled()
    concept_action(page, "allocate-button", 77)
    wait_stat(page, "allocated", 1)
    App(page).load(page.reload)
    assert by_id(page, "storage-failed").is_hidden()
    expect(by_id(page, "storage-restored")).to_have_attribute("data-allocated", "1")


# ------------------------------------------------------------------------------- quota


def test_writes_failing_for_quota_show_unsaved_and_saved_again_once_space_exists(
    context: BrowserContext, server: Server
) -> None:
    page = open_dashboard(context, server, "?name=quota&columns=40000")
    status = by_id(page, "storage-status")
    expect(status).to_have_attribute("data-saved", "true")
    cdp = context.new_cdp_session(page)
    origin = server.url.rstrip("/")
    cdp.send("Storage.overrideQuotaForOrigin", {"origin": origin, "quotaSize": 64 * 1024})
    run_batch(page, "39000")  # a record of about 156 kB
    expect(by_id(page, "batch-status")).to_have_attribute("data-state", "failed")
    expect(status).to_have_attribute("data-saved", "false")
    expect(status).to_contain_text("Not saved: QuotaExceededError")
    unsaved = by_id(page, "storage-unsaved")
    expect(unsaved).to_be_visible()
    expect(unsaved).to_contain_text("Changes cannot be saved: QuotaExceededError")
    expect(by_id(page, "event-log")).to_contain_text("Not saved: QuotaExceededError")
    # nothing that could not be saved was acknowledged: the engine keeps its saved state
    wait_stat(page, "allocated", 0)
    by_id(page, "concept-input").fill("999999")
    by_id(page, "allocate-button").click()
    expect(by_id(page, "error-banner")).to_contain_text("Changes cannot be saved now: QuotaExceededError")
    wait_stat(page, "allocated", 0)

    cdp.send("Storage.overrideQuotaForOrigin", {"origin": origin})
    by_id(page, "storage-retry-button").click()
    expect(status).to_have_attribute("data-saved", "true", timeout=UPDATE_TIMEOUT_MS)
    expect(status).to_contain_text("Saved in this browser")
    expect(unsaved).to_be_hidden()
    expect(by_id(page, "event-log")).to_contain_text("Saved: every change is stored in this browser again")
    concept_action(page, "allocate-button", 999_999)
    wait_stat(page, "allocated", 1)
    App(page).load(page.reload)
    expect(by_id(page, "storage-restored")).to_have_attribute("data-allocated", "1")


# --------------------------------------------------------------- persist() and flushing


@pytest.mark.parametrize("stub,answer", [
    ("navigator.storage.persist = () => { window.__persistCalls = (window.__persistCalls ?? 0) + 1; return Promise.resolve(true); };", "granted"),
    ("navigator.storage.persist = () => { window.__persistCalls = (window.__persistCalls ?? 0) + 1; return Promise.resolve(false); };", "not granted"),
    ("Object.defineProperty(StorageManager.prototype, 'persist', {value: undefined});", "unavailable"),
    ("", None),  # the browser's own answer
])
def test_persistent_storage_is_asked_once_and_the_answer_shown(
    context: BrowserContext, server: Server, stub: str, answer: str | None
) -> None:
    page = context.new_page()
    if stub:
        page.add_init_script(stub)
    counted = answer in ("granted", "not granted")
    if counted:
        # asked once over the whole boot, and the answer still shown after it
        open_dashboard(context, server, page=page)
    else:
        # The page asks as it loads, before the engine exists: these answers are checked
        # without waiting for the boot (the page closes with the test, which stops it);
        # the counted cases show the boot leaves the answer shown alone.
        page.set_default_timeout(UPDATE_TIMEOUT_MS)
        page.goto(server.url)
    shown = by_id(page, "storage-persisted")
    if answer is None:
        expect(shown).to_have_text(re.compile(r"^(granted|not granted)$"))
    else:
        expect(shown).to_have_text(answer)
        expect(shown).to_have_attribute("data-state", answer)
    if counted:
        assert page.evaluate("window.__persistCalls") == 1


def test_hiding_or_leaving_the_page_flushes_the_engine(context: BrowserContext, server: Server) -> None:
    page = open_dashboard(context, server)
    page.evaluate("""() => {
        const kg = window.cortexkg, flush = kg.flush.bind(kg);
        window.__flushes = 0;
        kg.flush = () => { window.__flushes += 1; return flush(); };
    }""")
    page.evaluate("""() => {
        Object.defineProperty(document, 'visibilityState', {configurable: true, get: () => 'visible'});
        document.dispatchEvent(new Event('visibilitychange'));
    }""")
    assert page.evaluate("window.__flushes") == 0
    page.evaluate("""() => {
        Object.defineProperty(document, 'visibilityState', {configurable: true, get: () => 'hidden'});
        document.dispatchEvent(new Event('visibilitychange'));
    }""")
    assert page.evaluate("window.__flushes") == 1
    page.evaluate("() => window.dispatchEvent(new PageTransitionEvent('pagehide', {persisted: false}))")
    assert page.evaluate("window.__flushes") == 2
    # and the flushes went through (the engine still answers)
    assert page.evaluate("async () => (await window.cortexkg.flush(), 'flushed')") == "flushed"
