"""Persistence in IndexedDB, in real Chromium: reloads, corrupted data, quota, two tabs,
export and import (crashes: test_durability.py).

Engines are driven through the JavaScript API on web/api.html.
"""

from __future__ import annotations

import json
from typing import Callable

import pytest
from harness import BOOT_TIMEOUT_MS, RAW_JS, Server
from playwright.sync_api import BrowserContext, Page

pytestmark = pytest.mark.browser

# Everything observable about window.kg, as one JSON string.
STATE_JS = """async () => JSON.stringify({
    history: await kg.getAllocationHistory(), stats: await kg.getStats(),
    // refractory time left runs down: whether a column has any
    columns: Object.fromEntries(Object.entries(await kg.getColumnStates()).map(([k, v]) =>
        [k, k === 'refractoryLeftMs' ? Array.from(v, (ms) => ms > 0) : Array.from(v)])),
    times: Array.from(await kg.getAllocationTimes()), average: await kg.getAverageTime(),
    fields: await Promise.all([0, 1, 2, 3].map(async (c) => (await kg.getColumn(c)).field)),
    config: kg.config})"""


def open_api(context: BrowserContext, server: Server) -> Page:
    page = context.new_page()
    page.set_default_timeout(BOOT_TIMEOUT_MS)
    page.goto(server.url + "api.html")
    page.evaluate("async () => { window.api = await import('./cortexkg.js'); }")
    return page


def create(page: Page, **options) -> dict:
    """window.kg = CortexKG.create(options); returns its storage state."""
    return page.evaluate(
        "async (options) => { window.kg = await api.CortexKG.create(options); return kg.storage; }",
        options)


# A database as JSON: its version and every object store with its key path and records,
# Blobs and typed arrays tagged so that RESTORE_JS writes back the same types. Anything
# else JSON cannot carry is refused, so a copy is exact or fails.
DUMP_JS = """async (name) => {
    const db = await new Promise((ok, fail) => { const r = indexedDB.open(name); r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });
    const read = [...db.objectStoreNames].map((name) => {
        const store = db.transaction(name).objectStore(name);
        const all = (r) => new Promise((ok) => { r.onsuccess = () => ok(r.result); });
        return Promise.all([name, store.keyPath, store.autoIncrement, all(store.getAllKeys()), all(store.getAll())]);
    });
    const stores = await Promise.all(read);
    db.close();
    const tagged = async (value) => {
        if (value instanceof Blob) return {$blob: Array.from(new Uint8Array(await value.arrayBuffer())), type: value.type};
        if (ArrayBuffer.isView(value)) return {$typed: value.constructor.name, items: Array.from(value)};
        if (Array.isArray(value)) return Promise.all(value.map(tagged));
        if (value === null || typeof value !== 'object') return value;
        if (Object.getPrototypeOf(value) !== Object.prototype) throw new TypeError(`cannot copy a ${value.constructor.name}`);
        return Object.fromEntries(await Promise.all(Object.entries(value).map(async ([k, v]) => [k, await tagged(v)])));
    };
    return {version: db.version, stores: await Promise.all(stores.map(async ([name, keyPath, autoIncrement, keys, values]) => (
        {name, keyPath, autoIncrement, keys, values: await Promise.all(values.map(tagged))})))};
}"""

# Write a DUMP_JS copy as database name (which must not exist yet).
RESTORE_JS = """async ([name, dump]) => {
    const untagged = (value) => {
        if (Array.isArray(value)) return value.map(untagged);
        if (value === null || typeof value !== 'object') return value;
        if ('$blob' in value) return new Blob([new Uint8Array(value.$blob)], {type: value.type});
        if ('$typed' in value) return new globalThis[value.$typed](value.items);
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, untagged(v)]));
    };
    const db = await new Promise((ok, fail) => {
        const r = indexedDB.open(name, dump.version);
        r.onupgradeneeded = () => { for (const {name, keyPath, autoIncrement} of dump.stores) r.result.createObjectStore(name, {keyPath, autoIncrement}); };
        r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error);
    });
    const tx = db.transaction(dump.stores.map((store) => store.name), 'readwrite');
    for (const {name, keyPath, keys, values} of dump.stores) {
        const store = tx.objectStore(name);
        keys.forEach((key, i) => keyPath === null ? store.put(untagged(values[i]), key) : store.put(untagged(values[i])));
    }
    await new Promise((ok, fail) => { tx.oncomplete = ok; tx.onabort = () => fail(tx.error); });
    db.close();
}"""

# The engine the ``stored`` fixture writes.
SOURCE = "source"


@pytest.fixture(scope="module")
def stored(api_page: Page) -> dict:
    """One engine's work, done once for the module in another profile (api_page) and
    closed: concepts with embeddings, a refractory column, an optimize that moved concepts
    (so a snapshot) and a journal record after it. What the tests below restore, upgrade,
    damage or import instead of booting an engine to write it again: {"state": STATE_JS,
    "export": exportState() as a list of bytes, "dump": DUMP_JS, "raw": RAW_JS}."""
    api_page.evaluate("async () => { window.api = await import('./cortexkg.js'); }")
    # a refractory period far longer than the module: the column concept 6 left stays
    # refractory in every test that reads it (the export test's import restarts its time)
    create(api_page, name=SOURCE, columns=40, strategy="affinity", dim=3, refractoryMs=600_000)
    exported = api_page.evaluate("""async () => {
        await kg.allocateBatch([5, 6, 7, 8], {embeddings: [[1, 0, 0], null, null, [0, 1, 1]]});
        await kg.deallocateConcept(6); await kg.activateConcept(8);
        await kg.optimizeAllocations(); await kg.allocateConcept(9, {embedding: [1, 2, 3]});
        return Array.from(await kg.exportState());
    }""")
    state = api_page.evaluate(STATE_JS)
    api_page.evaluate("async () => kg.close()")
    raw = api_page.evaluate(RAW_JS, f"cortexkg:{SOURCE}")
    assert len(raw["snapshots"]) == 1 and len(raw["journal"]) == 1
    return {"state": state, "export": exported, "dump": api_page.evaluate(DUMP_JS, f"cortexkg:{SOURCE}"),
            "raw": raw}


def restore(page: Page, stored: dict) -> None:
    """Write the ``stored`` fixture's database into page's (empty) profile, as it was."""
    page.evaluate(RESTORE_JS, [f"cortexkg:{SOURCE}", stored["dump"]])
    assert page.evaluate(RAW_JS, f"cortexkg:{SOURCE}") == stored["raw"]


def test_reload_keeps_everything(context: BrowserContext, server: Server) -> None:
    page = open_api(context, server)
    assert create(page, name="reload", columns=64, strategy="affinity", dim=5, seed=3,
                  refractoryMs=60_000)["restored"] is None
    saved = page.evaluate("""async () => {
        await kg.allocateBatch([1, 2, 3, 4, 5, 6], {embeddings: [null, [1, 0, 0, 0, 1], null, null, null, null]});
        await kg.allocateConcept(7, {embedding: new Float32Array([0.5, -1, 2, 0, 0])});
        await kg.deallocateBatch([2, 9]);
        await kg.activateConcept(4, 0.25); await kg.activateConcept(4); await kg.allocateConcept(5);
        const none = kg.storage.snapshot;
        await kg.optimizeAllocations();             // moves a concept: a snapshot replaces records 1..7
        const saved = kg.storage.snapshot;
        await Promise.all([kg.allocateConcept(20), kg.allocateConcept(21), kg.deallocateConcept(6)]);
        return {none, saved, size: (await kg.exportState()).length};
    }""")
    assert saved["none"] is None
    assert saved["saved"]["seq"] == 7 and saved["saved"]["ms"] > 0
    # the export file wraps the same snapshot bytes in a short header
    assert 0 < saved["saved"]["bytes"] < saved["size"]
    before = page.evaluate(STATE_JS)
    page.reload()
    page.evaluate("async () => { window.api = await import('./cortexkg.js'); }")
    storage = create(page, name="reload", columns=9)
    assert storage["mode"] == "writer"
    assert storage["restored"]["allocated"] == json.loads(before)["stats"]["allocated"]
    assert storage["ignored"] == ["columns"]
    after = page.evaluate(STATE_JS)
    assert json.loads(after) == json.loads(before)
    assert page.evaluate("async () => (await kg.validate(), 'valid')") == "valid"


# --- corruption ----------------------------------------------------------------------


def damage(page: Page, name: str, how: str) -> None:
    """Damage the stored data of database ``name`` the way ``how`` says, behind its back."""
    page.evaluate("""async ([name, how]) => {
        const db = await new Promise((ok, fail) => { const r = indexedDB.open(name); r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });
        const read = db.transaction('snapshots').objectStore('snapshots').get('current');
        const snapshot = await new Promise((ok) => { read.onsuccess = () => ok(read.result); });
        const bytes = new Uint8Array(await snapshot.bytes.arrayBuffer());
        const tx = db.transaction(['meta', 'snapshots', 'journal'], 'readwrite');
        const complete = new Promise((ok) => { tx.oncomplete = ok; });
        const get = (store, key) => new Promise((ok) => { const r = tx.objectStore(store).get(key); r.onsuccess = () => ok(r.result); });
        const meta = await get('meta', 'meta');
        if (how === 'snapshot-bytes') { bytes[bytes.length - 5] ^= 0x40; tx.objectStore('snapshots').put({...snapshot, bytes: new Blob([bytes])}, 'current'); }
        if (how === 'wrong-schema') { meta.schema = 7; tx.objectStore('meta').put(meta, 'meta'); }
        if (how === 'foreign-format') { meta.format = 'somebody-else'; tx.objectStore('meta').put(meta, 'meta'); }
        if (how === 'truncated-journal') {
            const keys = await new Promise((ok) => { const r = tx.objectStore('journal').getAllKeys(); r.onsuccess = () => ok(r.result); });
            tx.objectStore('journal').delete(keys[keys.length - 1]);
        }
        await complete;
        db.close();
    }""", [name, how])


@pytest.mark.parametrize("how,message", [
    ("snapshot-bytes", "checksum mismatch"),
    ("truncated-journal", "truncated journal"),
    ("wrong-schema", "schema 7"),
    ("foreign-format", "not CortexKG's"),
])
def test_damaged_data_is_refused_and_left_untouched(
    context: BrowserContext, server: Server, stored: dict, how: str, message: str
) -> None:
    page = open_api(context, server)
    restore(page, stored)
    damage(page, f"cortexkg:{SOURCE}", how)
    before = page.evaluate(RAW_JS, f"cortexkg:{SOURCE}")
    storage = create(page, name=SOURCE)
    assert storage["mode"] == "failed"
    assert message in storage["error"]
    refused = page.evaluate("""async () => {
        try { await kg.allocateConcept(77); return 'accepted'; } catch (e) { return e.name + ': ' + e.message; }
    }""")
    assert refused.startswith("StateError: ") and "Export the raw data or reset" in refused
    raw = page.evaluate(
        "async () => Object.keys(JSON.parse(new TextDecoder().decode(await kg.exportRawData()))).sort()")
    assert raw == ["journal", "meta", "snapshots"]
    assert page.evaluate(RAW_JS, f"cortexkg:{SOURCE}") == before
    # An explicit reset of the refused engine is the way out, and then the engine works
    # and persists. (That closing a refused engine writes nothing either is shown by the
    # newer-version and foreign-database tests below: the same close, whatever refused.)
    page.evaluate("async () => { await kg.reset({columns: 8}); await kg.allocateConcept(5); kg.close(); }")
    assert create(page, name=SOURCE)["restored"]["allocated"] == 1


def test_data_from_a_newer_version_is_refused_and_left_untouched(
    context: BrowserContext, server: Server
) -> None:
    page = open_api(context, server)
    page.evaluate("""async () => {
        const db = await new Promise((ok) => {
            const r = indexedDB.open('cortexkg:future', 3);
            r.onupgradeneeded = () => r.result.createObjectStore('future-things');
            r.onsuccess = () => ok(r.result);
        });
        await new Promise((ok) => { const tx = db.transaction('future-things', 'readwrite');
            tx.objectStore('future-things').put({x: 1}, 'k'); tx.oncomplete = ok; });
        db.close();
    }""")
    before = page.evaluate(RAW_JS, "cortexkg:future")
    storage = create(page, name="future")
    assert storage["mode"] == "failed" and "newer version" in storage["error"]
    # what it holds can still be exported as it is, and no database appears from nothing
    assert json.loads(bytes(page.evaluate("async () => Array.from(await kg.exportRawData())"))) == {
        "future-things": [["k", {"x": 1}]]}
    assert page.evaluate("""async () => {
        const { dumpDatabase } = await import('./persistence.js');
        const raw = await dumpDatabase('never-created');
        return [raw, (await indexedDB.databases()).map((d) => d.name).includes('cortexkg:never-created')];
    }""") == [{}, False]
    page.evaluate("async () => kg.close()")
    assert page.evaluate(RAW_JS, "cortexkg:future") == before


# Rewrite a schema 2 database as schema 1 stored it (snapshot bytes as a Uint8Array).
TO_SCHEMA_1_JS = """async (name) => {
    const open = (version, upgrade) => new Promise((ok, fail) => { const r = indexedDB.open(name, version);
        r.onupgradeneeded = () => upgrade?.(r.result); r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });
    const all = (db, store) => new Promise((ok) => { const r = db.transaction(store).objectStore(store).getAll(); r.onsuccess = () => ok(r.result); });
    let db = await open();
    const [[meta], [snapshot], journal] = [await all(db, 'meta'), await all(db, 'snapshots'), await all(db, 'journal')];
    db.close();
    await new Promise((ok) => { indexedDB.deleteDatabase(name).onsuccess = ok; });
    db = await open(1, (db) => { db.createObjectStore('meta'); db.createObjectStore('snapshots'); db.createObjectStore('journal', {keyPath: 'seq'}); });
    const bytes = new Uint8Array(await snapshot.bytes.arrayBuffer());
    const tx = db.transaction(['meta', 'snapshots', 'journal'], 'readwrite');
    tx.objectStore('meta').put({...meta, schema: 1}, 'meta');
    tx.objectStore('snapshots').put({...snapshot, bytes}, 'current');
    for (const record of journal) tx.objectStore('journal').put(record);
    await new Promise((ok) => { tx.oncomplete = ok; });
    db.close();
}"""


def test_schema_1_data_is_upgraded_in_place(
    context: BrowserContext, server: Server, stored: dict
) -> None:
    page = open_api(context, server)
    restore(page, stored)                           # a snapshot and a journal record after it
    page.evaluate(TO_SCHEMA_1_JS, f"cortexkg:{SOURCE}")
    old = page.evaluate(RAW_JS, f"cortexkg:{SOURCE}")
    assert old["version"] == 1 and json.loads(old["meta"][0])["schema"] == 1
    storage = create(page, name=SOURCE)
    assert storage["mode"] == "writer"
    assert storage["restored"] == {"snapshot": True, "records": 1, "allocated": 4, "columns": 40,
                                   "ms": storage["restored"]["ms"]}
    assert page.evaluate(STATE_JS) == stored["state"]
    page.evaluate("async () => kg.close()")
    new = page.evaluate(RAW_JS, f"cortexkg:{SOURCE}")
    assert new["version"] == 2 and json.loads(new["meta"][0])["schema"] == 2
    # the same bytes, now a Blob
    assert new["snapshots"] == old["snapshots"] and new["journal"] == old["journal"]
    assert page.evaluate("""async (name) => {
        const db = await new Promise((ok) => { const r = indexedDB.open(name); r.onsuccess = () => ok(r.result); });
        const r = db.transaction('snapshots').objectStore('snapshots').get('current');
        const snapshot = await new Promise((ok) => { r.onsuccess = () => ok(r.result); });
        db.close();
        return snapshot.bytes instanceof Blob;
    }""", f"cortexkg:{SOURCE}")


def test_a_foreign_version_1_database_is_not_upgraded(
    context: BrowserContext, server: Server
) -> None:
    page = open_api(context, server)
    page.evaluate("""async () => {
        const db = await new Promise((ok) => { const r = indexedDB.open('cortexkg:stranger', 1);
            r.onupgradeneeded = () => r.result.createObjectStore('things'); r.onsuccess = () => ok(r.result); });
        db.close();
    }""")
    storage = create(page, name="stranger")
    assert storage["mode"] == "failed" and "lacks meta, snapshots, journal" in storage["error"]
    page.evaluate("async () => kg.close()")
    assert page.evaluate(RAW_JS, "cortexkg:stranger") == {"version": 1, "things": []}


# --- quota -----------------------------------------------------------------------------

def limit_quota(context: BrowserContext, page: Page, server: Server) -> Callable[[], None]:
    """Set the origin's quota to its usage plus 128 kB; returns what lifts it again.

    Chromium grants writes an allowance for 30 s after one first asks for quota, so the
    quota is set before the first write."""
    cdp = context.new_cdp_session(page)
    origin = server.url.rstrip("/")
    usage = page.evaluate("async () => (await navigator.storage.estimate()).usage")
    cdp.send("Storage.overrideQuotaForOrigin", {"origin": origin, "quotaSize": usage + 128 * 1024})
    return lambda: cdp.send("Storage.overrideQuotaForOrigin", {"origin": origin})


def test_under_a_full_quota_mutations_are_refused_unchanged_and_accepted_once_it_is_lifted(
    context: BrowserContext, server: Server
) -> None:
    context.expected_errors.append("QuotaExceededError")  # Chromium may log the refused writes
    page = open_api(context, server)
    create(page, name="quota", columns=40_000)
    # the export's SHA-256, computed in the page: a megabyte as a JSON array is slow
    page.evaluate("""() => { window.digest = async (bytes) => Array.from(
        new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)), (b) => b.toString(16).padStart(2, '0')).join(''); }""")
    # small writes fit, the batch below (its record about 160 kB) does not
    lift_quota = limit_quota(context, page, server)
    before = page.evaluate("""async () => {
        await kg.allocateBatch([1, 2, 3]);
        window.storageEvents = [];
        kg.addEventListener('storage', (e) => storageEvents.push({saved: e.detail.saved, error: e.detail.error}));
        return digest(await kg.exportState());
    }""")
    refused = page.evaluate("""async () => {
        const outcome = (p) => p.then((v) => 'resolved', (e) => e.name);
        // the batch's own commit fails; the calls queued behind it are not acknowledged either
        const first = await Promise.all([
            outcome(kg.allocateBatch(Uint32Array.from({length: 39_990}, (_, i) => i + 10), {columnar: true})),
            outcome(kg.allocateConcept(7)), outcome(kg.deallocateConcept(1))]);
        // while the store refuses writes, every mutation is refused before it runs
        const then = await Promise.all([outcome(kg.allocateConcept(8)), outcome(kg.activateConcept(2)),
            outcome(kg.optimizeAllocations()), outcome(kg.deallocateBatch([1, 2]))]);
        return {first, then, storage: kg.storage, count: await kg.getAllocatedCount(), events: storageEvents,
                state: await digest(await kg.exportState())};
    }""")
    assert refused["first"] == ["StorageError"] * 3
    assert refused["then"] == ["StorageError"] * 4
    assert refused["storage"]["saved"] is False and "QuotaExceededError" in refused["storage"]["error"]
    assert {"saved": False, "error": refused["storage"]["error"]} in refused["events"]
    # reads keep working, on the state last made durable, byte for byte
    assert refused["count"] == 3
    assert refused["state"] == before
    lift_quota()
    accepted = page.evaluate("""async () => {
        await kg.flush();
        return {saved: kg.storage.saved, column: await kg.allocateConcept(9), last: storageEvents.at(-1)};
    }""")
    assert accepted == {"saved": True, "column": 3, "last": {"saved": True, "error": None}}
    page.reload()
    page.evaluate("async () => { window.api = await import('./cortexkg.js'); }")
    create(page, name="quota")
    history = page.evaluate("async () => (await kg.getAllocationHistory()).map((h) => h.conceptId)")
    assert history == [1, 2, 3, 9]


def test_under_a_full_quota_a_run_of_pipelined_calls_is_refused_as_its_calls_would_be(
    context: BrowserContext, server: Server
) -> None:
    # Pipelined allocateConcept calls are one run, one record (Session.call_many): when its
    # commit fails, every call of it that changed the engine rejects with StorageError, the
    # calls the engine had no column for keep their AllocationError, and the engine is
    # rolled back to the stored state.
    context.expected_errors.append("QuotaExceededError")  # Chromium may log the refused writes
    page = open_api(context, server)
    create(page, name="quota-run", columns=40_000)
    lift_quota = limit_quota(context, page, server)
    out = page.evaluate("""async () => {
        await kg.allocateBatch([1, 2, 3]);
        const settle = (p) => p.then(() => 'resolved', (e) => e.name);
        // 39,997 columns are free: the last 5 of the run find none; its record (160 kB) does not fit
        const calls = Array.from({length: 40_002}, (_, i) => settle(kg.allocateConcept(i + 10)));
        const outcomes = await Promise.all([...calls, settle(kg.allocateConcept(-1))]);
        const counts = {};
        for (const outcome of outcomes) counts[outcome] = (counts[outcome] ?? 0) + 1;
        return {counts, last: outcomes.slice(-7), saved: kg.storage.saved,
                history: (await kg.getAllocationHistory()).map((h) => h.conceptId)};
    }""")
    assert out["counts"] == {"StorageError": 39_997, "AllocationError": 5, "InvalidInputError": 1}
    assert out["last"] == ["StorageError"] + ["AllocationError"] * 5 + ["InvalidInputError"]
    assert out["saved"] is False and out["history"] == [1, 2, 3]
    lift_quota()


# --- two tabs --------------------------------------------------------------------------

# Resolve once window.kg's history (as JSON) or storage mode is the expected value, checked
# again at each of its events of the given kind ("change", "storage") instead of polling;
# reject after 30 s.
UNTIL_JS = """([event, what, expected]) => new Promise((resolve, reject) => {
    const read = {history: async () => JSON.stringify(await kg.getAllocationHistory()), mode: async () => kg.storage.mode}[what];
    const check = async () => {
        if (await read() !== expected) return;
        clearTimeout(timer); kg.removeEventListener(event, check); resolve();
    };
    const timer = setTimeout(() => {
        kg.removeEventListener(event, check); reject(new Error(`${what} is not ${expected} after 30 s`));
    }, 30_000);
    kg.addEventListener(event, check);
    check();
})"""


def test_one_tab_writes_the_other_follows_read_only_and_takes_over(
    context: BrowserContext, server: Server
) -> None:
    writer, reader = open_api(context, server), open_api(context, server)
    assert create(writer, name="tabs", columns=16)["mode"] == "writer"
    assert create(reader, name="tabs", columns=16)["mode"] == "reader"
    refused = reader.evaluate(
        "async () => { try { await kg.allocateConcept(1); } catch (e) { return e.name + ': ' + e.message; } }")
    assert refused.startswith("StateError: Read-only")
    writer.evaluate("async () => { await kg.allocateBatch([1, 2, 3]); await kg.deallocateConcept(2); await kg.optimizeAllocations(); }")
    expected = writer.evaluate("async () => JSON.stringify(await kg.getAllocationHistory())")
    reader.evaluate(UNTIL_JS, ["change", "history", expected])
    assert reader.evaluate("async () => JSON.stringify(await kg.getAllocationHistory())") == expected
    writer.close()
    reader.evaluate(UNTIL_JS, ["storage", "mode", "writer"])
    assert reader.evaluate("() => kg.storage.mode") == "writer"
    assert reader.evaluate("async () => kg.allocateConcept(40)") == 2


# --- export and import -----------------------------------------------------------------

def test_export_then_import_into_a_fresh_profile_reproduces_the_state(
    context: BrowserContext, server: Server, stored: dict
) -> None:
    # the ``stored`` fixture's engine exported its state in another profile: it is imported
    # into this one, fresh (the same warm HTTP cache, no database)
    exported, before = stored["export"], json.loads(stored["state"])
    target = open_api(context, server)
    assert target.evaluate("async () => (await indexedDB.databases()).length") == 0
    create(target, name="target")
    target.evaluate("async (bytes) => kg.importState(new Uint8Array(bytes))", exported)
    after = json.loads(target.evaluate(STATE_JS))
    # the refractory column's remaining time is measured from the import, the rest is equal
    for key in ("history", "times", "average", "fields"):
        assert after[key] == before[key]
    for key in ("state", "concept", "activation", "usage", "confidence"):
        assert after["columns"][key] == before["columns"][key]
    assert {**after["stats"], "available": 0, "refractory": 0} == {**before["stats"], "available": 0, "refractory": 0}
    assert after["config"] == {**before["config"], "name": "target"}
    tampered = list(exported)
    tampered[len(tampered) // 2] ^= 1
    refused = target.evaluate("""async (bytes) => {
        try { await kg.importState(new Uint8Array(bytes)); return 'accepted'; } catch (e) { return e.name + ': ' + e.message; }
    }""", tampered)
    assert refused == "StateError: Export checksum mismatch: the file was changed or damaged"
    assert json.loads(target.evaluate(STATE_JS))["history"] == before["history"]
    # and the imported state is durable
    target.reload()
    target.evaluate("async () => { window.api = await import('./cortexkg.js'); }")
    assert create(target, name="target")["restored"]["allocated"] == before["stats"]["allocated"]
