"""A corpus of hostile calls through the JavaScript API (web/cortexkg.js), in one page.

Every public method of CortexKG, and CortexKG.create, gets the values a hostile or
careless caller passes: ids out of range or of the wrong type, a 5 MB string, BigInts,
objects with valueOf, symbols and functions; batches of raw bytes, holes and nested
arrays; options of the wrong type or with unknown keys; embeddings of the wrong length,
zeros or NaN; engines beyond the size limits; import files damaged or crafted with valid
checksums (a snapshot header nested 4,000 deep, a NaN allocation timestamp). Each case
must reject, within 20 s, with its typed error class and a message of at most 300
characters naming the value, and leave the engine's state (its export, byte for byte) and
its database as they were.
Then the runtime must still work, and a closed instance must refuse every method.

The corpus runs once, on one engine, in one page.evaluate; each test checks one property
over all of its cases and lists every case that breaks it.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest
from playwright.sync_api import Page

pytestmark = pytest.mark.browser

MAX_MESSAGE = 300
SEEDED = 5  # concepts allocated before the corpus runs

SETUP_JS = """async () => {
    window.api = await import('./cortexkg.js');
    window.kg = await api.CortexKG.create({name: 'hostile', columns: 64, strategy: 'affinity', dim: 4});
    await kg.allocateBatch([1, 2, 3, 4, 5, 6]);
    await kg.activateConcept(1, 0.5);
    await kg.deallocateConcept(3);
    // moved concepts make a snapshot supersede the journal now, so that no idle compaction
    // writes to the database while the corpus compares it before and after each case
    return {moved: await kg.optimizeAllocations(), snapshot: kg.storage.snapshot};
}"""

CORPUS_JS = r"""async () => {
  const TIMEOUT_MS = 20_000; // for a call; create() has its own bound (it boots a runtime)
  const CREATE_TIMEOUT_MS = api.BOOT_TIMEOUT_MS + TIMEOUT_MS;
  const INVALID = 'InvalidInputError', STATE = 'StateError', CLOSED = 'NotInitializedError';

  // --- export files, laid out as py/cortexkg/exchange.py and snapshot.py write them ---
  // export:   "CORTEXKG-EXPORT\n" | u32 version | u32 header length | header JSON | snapshot
  // snapshot: "CORTEXKG" | u32 version | u32 header length | u32 crc32(header) | header JSON
  //           | each buffer the header lists, in order (little-endian)
  const CRC_TABLE = Uint32Array.from({length: 256}, (_, n) => {
    for (let k = 0; k < 8; k++) n = n & 1 ? 0xEDB88320 ^ (n >>> 1) : n >>> 1;
    return n;
  });
  const crc32 = (bytes) => {
    let c = 0xFFFFFFFF;
    for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xFF] ^ (c >>> 8);
    return (c ^ 0xFFFFFFFF) >>> 0;
  };
  const ITEM_SIZE = {B: 1, I: 4, f: 4, d: 8};
  const utf8 = (text) => new TextEncoder().encode(text);
  const concat = (...parts) => {
    const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
    parts.reduce((at, part) => { out.set(part, at); return at + part.length; }, 0);
    return out;
  };
  const u32 = (...values) => {
    const out = new Uint8Array(4 * values.length), view = new DataView(out.buffer);
    values.forEach((value, i) => view.setUint32(4 * i, value, true));
    return out;
  };
  const parseExport = (file) => {
    const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
    const snapshot = file.subarray(24 + view.getUint32(20, true));
    const length = new DataView(snapshot.buffer, snapshot.byteOffset).getUint32(12, true);
    const header = JSON.parse(new TextDecoder().decode(snapshot.subarray(20, 20 + length)));
    const buffers = {};
    let at = 20 + length;
    for (const entry of header.buffers) {
      const size = entry.length * ITEM_SIZE[entry.typecode];
      buffers[entry.name] = snapshot.slice(at, at + size);
      at += size;
    }
    return {header, buffers};
  };
  const snapshotOf = (headerText, body = new Uint8Array()) => {
    const raw = utf8(headerText);
    return concat(utf8('CORTEXKG'), u32(1, raw.length, crc32(raw)), raw, body);
  };
  const exportOf = async (snapshot) => {
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', snapshot));
    const sha256 = Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
    const header = utf8(JSON.stringify({sha256, size: snapshot.length, version: 1}));
    return concat(utf8('CORTEXKG-EXPORT\n'), u32(1, header.length), header, snapshot);
  };
  // a real export changed by edit({header, buffers}), its crc32s and SHA-256 valid again
  const edited = (file, edit) => {
    const {header, buffers} = parseExport(file);
    edit({header, buffers});
    for (const entry of header.buffers) entry.crc32 = crc32(buffers[entry.name]);
    return exportOf(snapshotOf(JSON.stringify(header), concat(...header.buffers.map((e) => buffers[e.name]))));
  };
  // ... with one value of the first allocated column's `name` buffer replaced
  const withValue = (file, name, Type, value) => edited(file, ({buffers}) => {
    new Type(buffers[name].buffer)[buffers.state.indexOf(1)] = value;
  });

  // --- what must not change: the engine's state and the database ---
  // (an unchanged engine without refractory columns exports the same bytes)
  const stateOf = async () => (await kg.exportState()).join();
  const storedOf = async () => JSON.stringify([
    new TextDecoder().decode(await kg.exportRawData()),
    (await indexedDB.databases()).map((d) => d.name).sort()]);

  // --- the values ---
  const file = await kg.exportState();
  const big = 'hostile-' + 'x'.repeat(5_000_000);
  const BIG = 'hostile-xxxxxxxxxxxxxxxx'; // how a message quotes it
  class WithValueOf { valueOf() { return 5; } }
  const cannotBePosted = (value) => { try { structuredClone(value); return false; } catch { return true; } };
  let deep = [7];
  for (let i = 0; i < 100_000; i++) deep = [deep];
  const sparseHuge = [];
  sparseHuge.length = 2 ** 32 - 1;
  const nest = (depth, open, close) => open.repeat(depth) + close.repeat(depth);
  const manyKeys = Object.fromEntries(Array.from({length: 10_000}, (_, i) => [`key${i}`, i]));

  // [label, value, what the message must name (case-insensitive)...]
  const BAD_IDS = [
    ['-1', -1, '-1'], ['2**32', 2 ** 32, '4294967296'], ['1.5', 1.5, '1.5'], ['NaN', NaN, 'nan'],
    ['Infinity', Infinity, 'inf'], ['-Infinity', -Infinity, '-inf'], ['"abc"', 'abc', 'abc'],
    ['"7"', '7', "'7'"], ['a 5 MB string', big, BIG], ['null', null, 'none'],
    ['undefined', undefined, 'none'], ['{}', {}, '{}'], ['[]', [], '[]'], ['true', true, 'true'],
    ['10n**30n', 10n ** 30n, '1000000000000000000000000000000'], ['-1n', -1n, '-1'],
    ['{valueOf() {return 5}}', {valueOf() { return 5; }}, 'valueOf'],
    ['a class instance with valueOf', new WithValueOf(), '{}'],
    ['new Number(5)', new Number(5), '5'], ['new Date(0)', new Date(0), '1970'],
    ['Symbol("hostile")', Symbol('hostile'), 'Symbol(hostile)'], ['() => 5', () => 5, '() => 5'],
  ];
  const BAD_OPTIONS = [
    ['"hostile"', 'hostile', 'hostile'], ['12345', 12345, '12345'], ['NaN', NaN, 'nan'],
    ['true', true, 'true'], ['[7]', [7], '[7]'], ['new Number(12345)', new Number(12345), '12345'],
    ['new Date(0)', new Date(0), '1970'], ['new Map()', new Map(), 'Map'],
    ['Symbol("hostile")', Symbol('hostile'), 'Symbol(hostile)'], ['() => 5', () => 5, '() => 5'],
    ['10n**30n', 10n ** 30n, '1000000000000000000000000000000'], ['a 5 MB string', big, BIG],
    ['{bogus: 1}', {bogus: 1}, 'bogus'], ['{[a 5 MB key]: 1}', {[big]: 1}, BIG],
    ['10,000 unknown keys', manyKeys, 'key0'],
  ];

  const cases = [];
  const add = (method, label, run, error, ...names) => cases.push({method, label, run, error, names});

  // ids, alone and in batches (valid ids first: nothing of a refused batch may be applied)
  for (const [label, value, ...names] of BAD_IDS) {
    const inBatch = value === undefined ? ['undefined', 'index 2']
      : cannotBePosted(value) ? names : [...names, 'index 2'];
    add('allocateConcept', `allocateConcept(${label})`, () => kg.allocateConcept(value), INVALID, ...names);
    add('deallocateConcept', `deallocateConcept(${label})`, () => kg.deallocateConcept(value), INVALID, ...names);
    add('activateConcept', `activateConcept(${label})`, () => kg.activateConcept(value), INVALID, ...names);
    add('getAllocationInfo', `getAllocationInfo(${label})`, () => kg.getAllocationInfo(value), INVALID, ...names);
    add('getColumn', `getColumn(${label})`, () => kg.getColumn(value), INVALID, ...names);
    add('allocateBatch', `allocateBatch([7, 8, ${label}])`, () => kg.allocateBatch([7, 8, value]), INVALID, ...inBatch);
    add('deallocateBatch', `deallocateBatch([1, 2, ${label}])`, () => kg.deallocateBatch([1, 2, value]), INVALID, ...inBatch);
  }
  for (const [label, value, ...names] of [['64', 64, '64'], ['1e9', 1e9, '1000000000'], ['"0"', '0', "'0'"]]) {
    add('getColumn', `getColumn(${label})`, () => kg.getColumn(value), INVALID, ...names);
  }

  // batches that are no batch of ids
  const BAD_BATCHES = [
    ['new Uint32Array([70000, 70001]).buffer', new Uint32Array([70000, 70001]).buffer, 'ArrayBuffer'],
    ['a DataView', new DataView(new Uint32Array([70000]).buffer), 'DataView'],
    ['new Float64Array([7, 0.5])', new Float64Array([7, 0.5]), '0.5', 'index 1'],
    ['[[7, 8]]', [[7, 8]], '[7, 8]'], ['[7, [8, [9]]]', [7, [8, [9]]], '[8, [9]]'],
    ['an array nested 100,000 deep', deep, 'call stack'],
    ['["7", "8"]', ['7', '8'], "'7'"], ['a sparse [7, , 9]', [7, , 9], 'hole', 'index 1'],
    ['a sparse array of length 2**32 - 1', sparseHuge, '4294967295 ids', 'at most 8388608'],
    ['new Uint32Array(2**23 + 1)', new Uint32Array(2 ** 23 + 1), '8388609 ids', 'at most 8388608'],
    ['[7, null]', [7, null], 'none', 'index 1'], ['"abc"', 'abc', 'abc'], ['a 5 MB string', big, BIG],
    ['12345', 12345, '12345'], ['null', null, 'none'], ['undefined', undefined, 'none'],
    ['{}', {}, '{}'], ['true', true, 'true'], ['new Date(0)', new Date(0), '1970'],
  ];
  for (const [label, value, ...names] of BAD_BATCHES) {
    add('allocateBatch', `allocateBatch(${label})`, () => kg.allocateBatch(value), INVALID, ...names);
    add('deallocateBatch', `deallocateBatch(${label})`, () => kg.deallocateBatch(value), INVALID, ...names);
  }

  // options of the wrong type, with unknown keys, or with bad values
  for (const [label, value, ...names] of BAD_OPTIONS) {
    add('allocateConcept', `allocateConcept(7, ${label})`, () => kg.allocateConcept(7, value), INVALID, ...names);
    add('allocateBatch', `allocateBatch([7], ${label})`, () => kg.allocateBatch([7], value), INVALID, ...names);
    add('deallocateBatch', `deallocateBatch([1], ${label})`, () => kg.deallocateBatch([1], value), INVALID, ...names);
    add('getAllocationHistory', `getAllocationHistory(${label})`, () => kg.getAllocationHistory(value), INVALID, ...names);
    add('reset', `reset(${label})`, () => kg.reset(value), INVALID, ...names);
    add('create', `create(${label})`, () => api.CortexKG.create(value), INVALID, ...names);
  }
  const EMBEDDINGS = [
    ['[1, 1]', [1, 1], 'length 2'], ['[0, 0, 0, 0]', [0, 0, 0, 0], 'all zeros'],
    ['new Float32Array(4)', new Float32Array(4), 'all zeros'], ['[NaN, 1, 1, 1]', [NaN, 1, 1, 1], 'nan'],
    ['[1, Infinity, 1, 1]', [1, Infinity, 1, 1], 'inf', 'index 1'], ['["a", "b", "c", "d"]', ['a', 'b', 'c', 'd'], "'a'"],
    ['"abcd"', 'abcd', 'abcd'], ['[1, 1, 1, null]', [1, 1, 1, null], 'none', 'index 3'],
    ['{length: 4}', {length: 4}, 'length'],
    ['new Float64Array(1_000_000)', new Float64Array(1_000_000), 'length 1000000'],
    ['12345', 12345, '12345'], ['a 5 MB string', big, BIG],
  ];
  for (const [label, value, ...names] of EMBEDDINGS) {
    add('allocateConcept', `allocateConcept(7, {embedding: ${label}})`,
        () => kg.allocateConcept(7, {embedding: value}), INVALID, ...names);
    add('allocateBatch', `allocateBatch([7, 8], {embeddings: [[1, 0, 0, 0], ${label}]})`,
        () => kg.allocateBatch([7, 8], {embeddings: [[1, 0, 0, 0], value]}), INVALID, ...names);
  }
  // an embedding of arrays: converted to Python alone, still a JavaScript array in a batch
  add('allocateConcept', 'allocateConcept(7, {embedding: [[1], [1], [1], [1]]})',
      () => kg.allocateConcept(7, {embedding: [[1], [1], [1], [1]]}), INVALID, '[1]', 'index 0');
  add('allocateBatch', 'allocateBatch([7, 8], {embeddings: [[1, 0, 0, 0], [[1], [1], [1], [1]]]})',
      () => kg.allocateBatch([7, 8], {embeddings: [[1, 0, 0, 0], [[1], [1], [1], [1]]]}), INVALID,
      'JavaScript Array of length 1', 'index 0');
  for (const [label, value, ...names] of [
      ['"abc"', 'abc', 'abc'], ['12345', 12345, '12345'], ['[[1, 0, 0, 0]] for 2 ids', [[1, 0, 0, 0]], '1 given for 2']]) {
    add('allocateBatch', `allocateBatch([7, 8], {embeddings: ${label}})`,
        () => kg.allocateBatch([7, 8], {embeddings: value}), INVALID, ...names);
  }
  for (const method of ['allocateBatch', 'deallocateBatch']) {
    add(method, `${method}([1], {columnar: "yes"})`, () => kg[method]([1], {columnar: 'yes'}), INVALID, 'yes');
    add(method, `${method}([1], {columnar: 1})`, () => kg[method]([1], {columnar: 1}), INVALID, 'columnar 1');
    add(method, `${method}([1], {onProgress: 5})`, () => kg[method]([1], {onProgress: 5}), INVALID, 'onProgress 5');
    add(method, `${method}([1], {onProgress: "hostile"})`, () => kg[method]([1], {onProgress: 'hostile'}), INVALID, 'hostile');
  }
  add('deallocateBatch', 'deallocateBatch([1], {embeddings: [[1, 0, 0, 0]]})',
      () => kg.deallocateBatch([1], {embeddings: [[1, 0, 0, 0]]}), INVALID, 'embeddings');
  for (const [label, value, ...names] of [
      ['NaN', NaN, 'nan'], ['-1', -1, '-1'], ['Infinity', Infinity, 'inf'], ['-Infinity', -Infinity, '-inf'],
      ['"abc"', 'abc', 'abc'], ['null', null, 'none'], ['{}', {}, '{}'], ['true', true, 'true'],
      ['a 5 MB string', big, BIG], ['Symbol("hostile")', Symbol('hostile'), 'Symbol(hostile)']]) {
    add('activateConcept', `activateConcept(1, ${label})`, () => kg.activateConcept(1, value), INVALID, ...names);
  }
  for (const [label, range, ...names] of [
      ['{start: "a"}', {start: 'a'}, "'a'"], ['{start: 1.5}', {start: 1.5}, '1.5'], ['{start: NaN}', {start: NaN}, 'nan'],
      ['{start: Infinity}', {start: Infinity}, 'inf'], ['{start: {}}', {start: {}}, '{}'], ['{start: []}', {start: []}, '[]'],
      ['{start: a 5 MB string}', {start: big}, BIG], ['{stop: "a"}', {stop: 'a'}, "'a'"], ['{stop: 1.5}', {stop: 1.5}, '1.5'],
      ['{start: Symbol("hostile")}', {start: Symbol('hostile')}, 'Symbol(hostile)']]) {
    add('getAllocationHistory', `getAllocationHistory(${label})`, () => kg.getAllocationHistory(range), INVALID, ...names);
  }

  // engines beyond the limits, or of a bad kind; reset must not rename the engine
  // beyond the limits (create() tries only two: each costs a runtime boot; both check alike)
  const BAD_ENGINES = [
    ['{columns: 50_000_000}', {columns: 50_000_000}, '50000000'],
    ['{strategy: "affinity", columns: 1_000_000, dim: 4096}', {strategy: 'affinity', columns: 1_000_000, dim: 4096}, '4096', '1000000'],
  ];
  for (const [label, options, ...names] of [
      ...BAD_ENGINES, ['{columns: 2**28}', {columns: 2 ** 28}, '268435456'],
      ['{columns: -1}', {columns: -1}, '-1'], ['{columns: 1.5}', {columns: 1.5}, '1.5'],
      ['{columns: "64"}', {columns: '64'}, "'64'"], ['{columns: NaN}', {columns: NaN}, 'nan'],
      ['{columns: null}', {columns: null}, 'none'],
      ['{columns: 10n**30n}', {columns: 10n ** 30n}, '1000000000000000000000000000000'],
      ['{strategy: "best"}', {strategy: 'best'}, 'best'], ['{dim: 4097}', {dim: 4097}, '4097'],
      ['{seed: -1}', {seed: -1}, '-1'], ['{seed: 2**64}', {seed: 2 ** 64}, '1.8446744073709552e+19'],
      ['{refractoryMs: -1}', {refractoryMs: -1}, '-1'], ['{refractoryMs: NaN}', {refractoryMs: NaN}, 'nan'],
      ['{refractoryMs: Infinity}', {refractoryMs: Infinity}, 'inf'], ['{backend: "gpu"}', {backend: 'gpu'}, 'gpu'],
      ['{name: "other"}', {name: 'other'}, 'other'], ['{name: ""}', {name: ''}, "''"], ['{name: 5}', {name: 5}, 'to 5'],
      ['{onProgress: () => 1}', {onProgress: () => 1}, '() => 1']]) {
    add('reset', `reset(${label})`, () => kg.reset(options), INVALID, ...names);
  }
  add('reset', 'reset(null)', () => kg.reset(null), INVALID, 'null');
  add('reset', 'reset("x")', () => kg.reset('x'), INVALID, '"x"');
  for (const [label, options, ...names] of [
      ...BAD_ENGINES,
      ['{name: ""}', {name: ''}, '""'], ['{name: 5}', {name: 5}, 'name 5'], ['{name: null}', {name: null}, 'null'],
      ['{name: a 5 MB string}', {name: big}, BIG], ['{onProgress: 5}', {onProgress: 5}, 'onProgress 5']]) {
    add('create', `create(${label})`, () => api.CortexKG.create({name: 'hostile-refused', ...options}), INVALID, ...names);
  }

  // import files: damaged, crafted with valid checksums, or no bytes at all
  const flipped = file.slice();
  flipped[flipped.length - 1] ^= 1;
  const withPrefix = (offset, value) => {
    const copy = file.slice();
    new DataView(copy.buffer).setUint32(offset, value, true);
    return copy;
  };
  const IMPORTS = [
    ['4096 random bytes', crypto.getRandomValues(new Uint8Array(4096)), 'CORTEXKG-EXPORT'],
    ['5 MB of zeros', new Uint8Array(5_000_000), 'CORTEXKG-EXPORT'],
    ['an empty file', new Uint8Array(), '0 bytes'],
    ['the first 10 bytes of an export', file.slice(0, 10), '10 bytes'],
    ['an export cut in half', file.slice(0, file.length >> 1), 'truncated'],
    ['an export with a byte more', concat(file, new Uint8Array(1)), 'padded'],
    ['an export with its last byte changed', flipped, 'checksum'],
    ['an export header length of 2**32 - 1', withPrefix(20, 2 ** 32 - 1), '4294967295'],
    ['an export of format version 2', withPrefix(16, 2), 'version 2'],
    ['a snapshot header nested 4,000 deep', await exportOf(snapshotOf(nest(4000, '[', ']'))), 'nested deeper'],
    ['a snapshot header of objects nested 4,000 deep', await exportOf(snapshotOf(nest(4000, '{"a":', '}').replace('{"a":}', '{"a":1}'))), 'nested deeper'],
    ['a snapshot header of 100 KB', await exportOf(snapshotOf(' '.repeat(100_000) + '{}')), '100002 bytes'],
    ['a snapshot header that is not JSON', await exportOf(snapshotOf('{"buffers": [')), 'malformed'],
    ['a snapshot header that is a number', await exportOf(snapshotOf('5')), 'malformed'],
    ['a NaN allocation timestamp', await withValue(file, 'allocated_at', Float64Array, NaN), 'timestamp', 'nan'],
    ['an infinite allocation timestamp', await withValue(file, 'allocated_at', Float64Array, Infinity), 'timestamp', 'infinite'],
    ['a negative allocation timestamp', await withValue(file, 'allocated_at', Float64Array, -1), 'timestamp', 'negative'],
    ['a NaN activation', await withValue(file, 'activation', Float32Array, NaN), 'activation'],
    ['a NaN confidence', await withValue(file, 'confidence', Float32Array, NaN), 'confidence'],
    ['a NaN receptive field value', await withValue(file, 'fields', Float32Array, NaN), 'field'],
    ['a column state 7', await edited(file, ({buffers}) => { buffers.state[0] = 7; }), 'state'],
    ['a concept in two columns', await edited(file, ({buffers}) => {
      const concept = new Uint32Array(buffers.concept.buffer);
      const [first, second] = [...buffers.state.keys()].filter((col) => buffers.state[col] === 1);
      concept[second] = concept[first];
    }), 'twice'],
    ['a configuration of 1e9 columns', await edited(file, ({header}) => { header.config.column_count = 1e9; }), '1000000000'],
  ];
  for (const [label, bytes, ...names] of IMPORTS) {
    add('importState', `importState(${label})`, () => kg.importState(bytes), STATE, ...names);
  }
  for (const [label, value, ...names] of [
      ['null', null, 'null'], ['undefined', undefined, 'undefined'], ['"abc"', 'abc', 'abc'],
      ['a 5 MB string', big, BIG], ['12345', 12345, '12345'], ['{}', {}, 'object'],
      ['the export as a plain array', Array.from(file), '[67,79,82,84'],
      ['the export as a Float64Array', Float64Array.from(file), 'Float64Array'],
      ['the export as an Int8Array', new Int8Array(file.buffer), 'Int8Array'],
      ['the export in a DataView', new DataView(file.buffer), 'DataView'],
      ['the export in a Blob', new Blob([file]), 'Blob'],
      ['Symbol("hostile")', Symbol('hostile'), 'Symbol(hostile)'], ['() => 5', () => 5, '() => 5']]) {
    add('importState', `importState(${label})`, () => kg.importState(value), INVALID, ...names);
  }

  // --- run: each case alone, then the state and the database compared with before it ---
  const settle = async (run, ms = TIMEOUT_MS) => {
    let promise;
    try {
      promise = run();
    } catch (error) {
      return {status: 'threw synchronously', error};
    }
    let timer;
    const pending = new Promise((resolve) => { timer = setTimeout(() => resolve({status: 'pending'}), ms); });
    try {
      return await Promise.race([
        Promise.resolve(promise).then((value) => ({status: 'resolved', value}), (error) => ({status: 'rejected', error})),
        pending]);
    } finally {
      clearTimeout(timer);
    }
  };
  const contains = (message, names) => names.every((name) => message.toLowerCase().includes(name.toLowerCase()));
  let before = {state: await stateOf(), stored: await storedOf()};
  const results = [];
  let stuck = false;
  for (const {method, label, run, error, names} of cases) {
    if (stuck) {
      results.push({method, label, expected: error, status: 'not run: an earlier call never settled'});
      continue;
    }
    const started = performance.now();
    const outcome = await settle(run, method === 'create' ? CREATE_TIMEOUT_MS : TIMEOUT_MS);
    const ms = performance.now() - started;
    if (outcome.status === 'resolved') outcome.value?.close?.(); // an engine create() should have refused
    stuck = outcome.status === 'pending';
    const e = outcome.error;
    const message = typeof e?.message === 'string' ? e.message : String(e);
    const result = {
      method, label, expected: error, status: outcome.status, ms,
      name: e?.name, constructor: e?.constructor?.name,
      typed: e instanceof api[error] && e instanceof api.CortexKGError && e.name === error,
      message: message.slice(0, 2 * 300), length: message.length, names, named: contains(message, names),
    };
    if (!stuck) {
      const after = {state: await stateOf(), stored: await storedOf()};
      result.stateUnchanged = after.state === before.state;
      result.storedUnchanged = after.stored === before.stored;
      before = after; // a case that changed something must not count against the next
    }
    results.push(result);
  }

  // methods without parameters ignore arguments, as JavaScript functions do
  const canonical = (value) => JSON.stringify(ArrayBuffer.isView(value) ? Array.from(value)
    : value?.state ? Object.values(value).map((a) => Array.from(a)) : value ?? null);
  const ignored = [];
  for (const method of ['getFreeColumnCount', 'getAllocatedCount', 'getAverageTime', 'getAllocationEfficiency',
      'getAllocationTimes', 'getAllocationTimeKinds', 'getFragmentation', 'getStats', 'getColumnStates', 'validate', 'flush',
      'exportState', 'exportRawData']) {
    if (stuck) break;
    const outcome = await settle(() => kg[method](big, Symbol('hostile'), {bogus: 1}));
    stuck = outcome.status === 'pending';
    const same = outcome.status === 'resolved'
      && canonical(outcome.value) === canonical(await kg[method]());
    ignored.push({method, status: outcome.status, error: String(outcome.error), same,
                  stateUnchanged: (await stateOf()) === before.state, storedUnchanged: (await storedOf()) === before.stored});
  }

  // the runtime still works
  let alive = null;
  if (!stuck) {
    const column = await kg.allocateConcept(100, {embedding: [1, 0, 0, 0]});
    alive = {
      column, info: await kg.getAllocationInfo(100), conceptAt: (await kg.getColumn(column)).conceptId,
      valid: (await kg.validate()) === undefined, released: await kg.deallocateConcept(100),
      allocated: await kg.getAllocatedCount(), history: (await kg.getAllocationHistory()).length,
    };
  }

  // a closed instance refuses every method
  const publicMethods = Object.getOwnPropertyNames(api.CortexKG.prototype)  // not accessors (stats)
    .filter((name) => name !== 'constructor' && name !== 'close'
      && typeof Object.getOwnPropertyDescriptor(api.CortexKG.prototype, name).value === 'function');
  const VALID_ARGUMENTS = {
    allocateConcept: [7], deallocateConcept: [1], activateConcept: [1], getAllocationInfo: [1],
    allocateBatch: [[7]], deallocateBatch: [[1]], importState: [file], getColumn: [0],
  };
  kg.close();
  for (const method of publicMethods) {
    const outcome = await settle(() => kg[method](...(VALID_ARGUMENTS[method] ?? [])));
    const e = outcome.error;
    results.push({
      method, label: `${method}() on a closed instance`, closed: true, expected: CLOSED, status: outcome.status,
      name: e?.name, constructor: e?.constructor?.name,
      typed: e instanceof api.NotInitializedError && e instanceof api.CortexKGError && e.name === CLOSED,
      message: String(e?.message), length: String(e?.message).length, names: ['closed'],
      named: contains(String(e?.message), ['closed']),
    });
  }
  return {results, ignored, alive, publicMethods: [...publicMethods, 'create']};
}"""


@pytest.fixture(scope="module")
def corpus(api_page: Page) -> dict:
    """The corpus, run once; what each case did, with the counts printed."""
    setup = api_page.evaluate(SETUP_JS)
    assert setup["moved"] > 0 and setup["snapshot"] is not None, setup
    started = time.monotonic()
    out = api_page.evaluate(CORPUS_JS)
    out["seconds"] = time.monotonic() - started
    results = out["results"]
    live = [r for r in results if not r.get("closed")]
    compared = [r for r in live if "stateUnchanged" in r]
    slowest = sorted(compared, key=lambda r: -r["ms"])[:3]
    print(f"\nhostile corpus: {len(results)} cases in {out['seconds']:.1f} s, "
          f"{len(live)} on a live engine and {len(results) - len(live)} on a closed one\n"
          f"  outcomes: {dict(Counter(r['status'] for r in results))}\n"
          f"  rejected with the typed error of the case: "
          f"{sum(r['status'] == 'rejected' and r['typed'] for r in results)}\n"
          f"  state and database unchanged: "
          f"{sum(r['stateUnchanged'] and r['storedUnchanged'] for r in compared)} of {len(live)}\n"
          f"  parameterless methods ignoring hostile arguments: "
          f"{sum(c['status'] == 'resolved' and c['same'] for c in out['ignored'])} of {len(out['ignored'])}\n"
          f"  slowest: " + ", ".join(f"{r['label'][:60]} {r['ms']:.0f} ms" for r in slowest))
    return out


def listing(cases: list[dict], what) -> str:
    """One line per case: its label and what went wrong."""
    return "\n".join(f"  {case['label'][:100]}: {what(case)}" for case in cases)


def outcome(case: dict) -> str:
    """How the case settled, and its error."""
    return (f"{case['status']}, {case.get('constructor')} {case.get('name')}: "
            f"{str(case.get('message'))[:160]!r}")


def test_every_case_rejects_and_none_is_left_pending(corpus: dict) -> None:
    bad = [case for case in corpus["results"] if case["status"] != "rejected"]
    assert not bad, f"{len(bad)} of {len(corpus['results'])} cases did not reject:\n" + listing(bad, outcome)


def test_rejections_carry_the_typed_error_class_of_the_case(corpus: dict) -> None:
    bad = [case for case in corpus["results"] if case["status"] == "rejected" and not case["typed"]]
    assert not bad, f"{len(bad)} rejections with the wrong class:\n" + listing(
        bad, lambda case: f"expected {case['expected']}, got {outcome(case)}")


def test_messages_name_the_value_in_at_most_300_characters(corpus: dict) -> None:
    bad = [case for case in corpus["results"] if case["status"] == "rejected"
           and (not case["named"] or case["length"] > MAX_MESSAGE)]
    assert not bad, f"{len(bad)} messages too long or not naming the value:\n" + listing(
        bad, lambda case: f"should name {case['names']}, {case['length']} characters: "
                          f"{case['message'][:200]!r}")


def test_state_and_database_are_unchanged_after_every_case(corpus: dict) -> None:
    live = [case for case in corpus["results"] if not case.get("closed")]
    bad = [case for case in live if not (case.get("stateUnchanged") and case.get("storedUnchanged"))]
    assert not bad, f"{len(bad)} cases changed something or could not be compared:\n" + listing(
        bad, lambda case: f"state {case.get('stateUnchanged', 'not compared')}, database "
                          f"{case.get('storedUnchanged', 'not compared')} ({outcome(case)})")


def test_methods_without_parameters_ignore_hostile_arguments(corpus: dict) -> None:
    bad = [call for call in corpus["ignored"]
           if not (call["status"] == "resolved" and call["same"]
                   and call["stateUnchanged"] and call["storedUnchanged"])]
    assert not bad, "\n".join(str(call) for call in bad)
    assert len(corpus["ignored"]) == 13


def test_the_corpus_covers_every_public_method(corpus: dict) -> None:
    live = {case["method"] for case in corpus["results"] if not case.get("closed")}
    closed = {case["method"] for case in corpus["results"] if case.get("closed")}
    parameterless = {call["method"] for call in corpus["ignored"]}
    methods = set(corpus["publicMethods"])
    assert methods - live - parameterless <= {"optimizeAllocations", "__diagnostics"}
    assert methods - {"create"} <= closed


def test_the_runtime_still_works_after_the_corpus(corpus: dict) -> None:
    alive = corpus["alive"]
    assert alive is not None, "the corpus left a call pending"
    assert alive["info"] == alive["column"] and alive["conceptAt"] == 100
    assert alive["valid"] and alive["released"] is True
    assert alive["allocated"] == SEEDED and alive["history"] == SEEDED
