"""Faults that used to lose acknowledged work, hang a call or kill the runtime, each
injected for real in Chromium: hostile stored data, a database held open by another tab,
a server sending WebAssembly with the wrong type, a worker that cannot start, a failure
inside the worker while calls are in flight.
"""

from __future__ import annotations

import pytest
from harness import RAW_JS, Server
from playwright.sync_api import BrowserContext, Page
from test_persistence import STATE_JS, TO_SCHEMA_1_JS, create, open_api

pytestmark = pytest.mark.browser


def outcome(page: Page, call: str):
    """What window.kg's call resolved to, or "<ErrorName>: <message>"."""
    return page.evaluate(
        f"async () => {{ try {{ return await {call}; }} catch (e) {{ return e.name + ': ' + e.message; }} }}")


def test_a_journal_record_nested_thousands_deep_is_refused_and_still_exports_raw(
    context: BrowserContext, server: Server
) -> None:
    page = open_api(context, server)
    create(page, name="deep", columns=16)
    page.evaluate("""async () => {
        await kg.allocateConcept(1); await kg.allocateConcept(2); kg.close();
        const db = await new Promise((ok) => { const r = indexedDB.open('cortexkg:deep'); r.onsuccess = () => ok(r.result); });
        let deep = []; for (let i = 0; i < 2000; i++) deep = [deep];
        const tx = db.transaction('journal', 'readwrite');
        tx.objectStore('journal').put({seq: 2, method: 'allocate_concept', args: deep, readings: []});
        await new Promise((ok) => { tx.oncomplete = ok; }); db.close();
    }""")
    before = page.evaluate(RAW_JS, "cortexkg:deep")
    storage = create(page, name="deep", columns=16)
    assert storage["mode"] == "failed"
    assert "journal record 2 nested deeper than 4 levels" in storage["error"]
    depth = page.evaluate("""async () => {
        const raw = JSON.parse(new TextDecoder().decode(await kg.exportRawData()));
        let args = new Map(raw.journal).get(2).args, depth = 0;
        while (args.length > 0) { args = args[0]; depth += 1; }
        return depth;
    }""")
    assert depth == 2000  # the whole stored value, not a truncated one
    # the runtime is alive and the refused data untouched
    assert page.evaluate("async () => kg.getAllocatedCount()") == 0
    page.evaluate("async () => kg.close()")
    assert page.evaluate(RAW_JS, "cortexkg:deep") == before


def test_a_corrupt_version_1_database_is_refused_without_being_upgraded(
    context: BrowserContext, server: Server
) -> None:
    page = open_api(context, server)
    create(page, name="old-bad", columns=32)
    page.evaluate("""async () => { await kg.allocateBatch([1, 2, 3]); await kg.deallocateConcept(1);
        await kg.optimizeAllocations(); kg.close(); }""")   # optimize moved: a snapshot
    page.evaluate(TO_SCHEMA_1_JS, "cortexkg:old-bad")
    page.evaluate("""async () => {   // flip a byte of the version 1 snapshot
        const db = await new Promise((ok) => { const r = indexedDB.open('cortexkg:old-bad'); r.onsuccess = () => ok(r.result); });
        const tx = db.transaction('snapshots', 'readwrite');
        const r = tx.objectStore('snapshots').get('current');
        r.onsuccess = () => { const s = r.result; s.bytes[s.bytes.length - 5] ^= 0x40; tx.objectStore('snapshots').put(s, 'current'); };
        await new Promise((ok) => { tx.oncomplete = ok; }); db.close();
    }""")
    before = page.evaluate(RAW_JS, "cortexkg:old-bad")
    assert before["version"] == 1
    storage = create(page, name="old-bad")
    assert storage["mode"] == "failed" and "checksum mismatch" in storage["error"]
    page.evaluate("async () => kg.close()")
    assert page.evaluate(RAW_JS, "cortexkg:old-bad") == before  # still version 1, byte for byte


def test_reset_waits_visibly_while_another_tab_holds_the_database_then_completes(
    context: BrowserContext, server: Server
) -> None:
    holder = open_api(context, server)
    # a database of a newer schema, held open by a tab that ignores versionchange
    holder.evaluate("""async () => {
        window.held = await new Promise((ok) => { const r = indexedDB.open('cortexkg:held', 9);
            r.onupgradeneeded = () => r.result.createObjectStore('future'); r.onsuccess = () => ok(r.result); });
    }""")
    page = open_api(context, server)
    assert create(page, name="held")["mode"] == "failed"
    page.evaluate("""() => {
        window.waiting = new Promise((ok) => kg.addEventListener('storage', (e) => {
            if (/waits for another tab/.test(e.detail.error ?? '')) ok(e.detail.error); }));
        window.resetting = kg.reset({columns: 8}).then(() => 'reset', (e) => e.name + ': ' + e.message);
    }""")
    assert page.evaluate("() => waiting") == (
        'Resetting "held" waits for another tab to close its database "cortexkg:held"')
    holder.evaluate("() => held.close()")
    assert page.evaluate("() => resetting") == "reset"
    assert page.evaluate("async () => [kg.storage.mode, await kg.allocateConcept(3)]") == ["writer", 0]


def test_create_fails_fast_with_a_boot_error_when_webassembly_is_served_with_the_wrong_type(
    context: BrowserContext, server: Server
) -> None:
    def octet_stream(route):
        response = route.fetch()
        route.fulfill(response=response, headers={**response.headers, "content-type": "application/octet-stream"})

    context.route("**/*.wasm", octet_stream)
    # Pyodide's own loader reports its failed compile on the console before giving up
    context.expected_errors += ["wasm instantiation failed", "Incorrect response MIME type"]
    page = open_api(context, server)
    failure = outcome(page, "api.CortexKG.create({name: 'mime'}).then(() => 'created')")
    assert failure.startswith("BootError: The Python runtime could not start: ")
    assert "MIME type" in failure or "application/wasm" in failure
    # a fetch the failed boot left unread must not fail the next test's context
    context.unroute_all(behavior="ignoreErrors")


def test_create_rejects_with_a_boot_error_when_the_worker_cannot_be_constructed(
    context: BrowserContext, server: Server
) -> None:
    page = open_api(context, server)
    # what a page of another origin meets: new Worker() throws a SecurityError
    page.evaluate("""() => { window.Worker = class { constructor(url) {
        throw new DOMException(`Script at '${url}' cannot be accessed from origin 'http://elsewhere'.`, 'SecurityError'); } }; }""")
    failure = outcome(page, "api.CortexKG.create({name: 'elsewhere'}).then(() => 'created')")
    assert failure.startswith("BootError: The engine's worker cannot start from ")
    assert "SecurityError" in failure


def test_a_failure_inside_the_worker_rejects_no_unrelated_call(
    context: BrowserContext, server: Server
) -> None:
    page = open_api(context, server)
    create(page, name="background", columns=64)
    page.evaluate("async () => { await kg.allocateBatch([1, 2, 3, 4]); await kg.deallocateConcept(2); }")
    [worker] = page.workers
    # Fault injection inside the real worker: the next snapshot cannot be made into a Blob
    # (as when memory runs out), and an uncaught error is thrown in a timer.
    context.expected_errors += ["injected uncaught failure"]
    worker.evaluate("""() => {
        self.Blob = class { constructor() { throw new RangeError('Array buffer allocation failed'); } };
        setTimeout(() => { throw new Error('injected uncaught failure'); }, 0);
    }""")
    results = page.evaluate("""async () => {
        const calls = [kg.optimizeAllocations(), kg.allocateConcept(9), kg.getAllocatedCount()];
        return Promise.all(calls.map((p) => p.then((v) => v, (e) => e.name + ': ' + e.message)));
    }""")
    # optimize moved two concepts (its compaction failed), the others went on
    assert results == [2, 3, 4]
    storage = page.evaluate("() => kg.storage")
    assert storage["saved"] is True
    assert storage["error"].startswith("Compacting the journal failed (it keeps growing): ")
    before = page.evaluate(STATE_JS)
    page.reload()
    page.evaluate("async () => { window.api = await import('./cortexkg.js'); }")
    create(page, name="background")
    assert page.evaluate(STATE_JS) == before  # the optimize and the allocation are durable
