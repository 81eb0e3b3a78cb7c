// JSON text of any value IndexedDB can hold, for the raw export of stored data that could
// not be loaded. Such data may be hostile: nested thousands deep (JSON.stringify and
// postMessage overflow the stack) or cyclic (structured clone keeps cycles), so the value
// is walked with an explicit stack, never by recursion.
//
// Typed arrays, DataViews and ArrayBuffers become arrays of numbers; Blobs {"blob": size};
// Dates ISO text; Maps arrays of [key, value]; Sets arrays; bigints strings; a cycle back
// to an object still open becomes "[cycle]"; anything else JSON cannot hold, null.

/** The JSON text of value. */
export function rawJson(value) {
  const out = [];
  const open = new Set(); // the objects on the path being written: a cycle points back to one
  const stack = [{ value }];
  while (stack.length > 0) {
    const task = stack.pop();
    if ("text" in task) out.push(task.text);
    else if ("close" in task) open.delete(task.close);
    else writeValue(task.value, out, open, stack);
  }
  return out.join("");
}

function writeValue(value, out, open, stack) {
  if (typeof value === "bigint") {
    out.push(JSON.stringify(String(value)));
  } else if (value === null || typeof value !== "object") {
    out.push(JSON.stringify(value) ?? "null"); // undefined, functions, symbols: null
  } else if (value instanceof Date) {
    out.push(JSON.stringify(Number.isNaN(value.getTime()) ? null : value.toISOString()));
  } else if (value instanceof Blob) {
    out.push(JSON.stringify({ blob: value.size }));
  } else if (value instanceof ArrayBuffer || value instanceof DataView) {
    const bytes = value instanceof DataView
      ? new Uint8Array(value.buffer, value.byteOffset, value.byteLength) : new Uint8Array(value);
    out.push(`[${bytes.join(",")}]`);
  } else if (ArrayBuffer.isView(value)) {
    const items = Array.from(value, (x) => (typeof x === "bigint" ? String(x) : x));
    out.push(JSON.stringify(items)); // flat: NaN and infinities become null
  } else if (open.has(value)) {
    out.push('"[cycle]"');
  } else {
    open.add(value);
    stack.push({ close: value });
    const isList = Array.isArray(value) || value instanceof Map || value instanceof Set;
    // Maps and Sets are read in full here: only their items are walked later
    const items = isList ? Array.from(value) : Object.entries(value);
    stack.push({ text: isList ? "]" : "}" });
    for (let i = items.length - 1; i >= 0; i -= 1) {
      if (isList) stack.push({ value: items[i] });
      else stack.push({ value: items[i][1] }, { text: `${JSON.stringify(items[i][0])}:` });
      if (i > 0) stack.push({ text: "," });
    }
    stack.push({ text: isList ? "[" : "{" });
  }
}
