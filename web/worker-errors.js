// Errors inside the worker, as the page will raise them: each carries the name of the
// page's error class in .type (as Pyodide's PythonError names the Python class).

/** An error the page raises as the class named by type. */
export class TypedError extends Error {
  constructor(type, message) {
    super(message);
    this.type = type;
  }
}

// Chromium's QuotaExceededError has an empty message: say what happened.
export function describeWriteError(error) {
  const detail = error?.message || (error?.name === "QuotaExceededError"
    ? "the browser's storage quota for this site is full" : "the write failed");
  return `${error?.name ?? "Error"}: ${detail}`;
}

/** The last line of a Python traceback without its class ("StateError: ..."), or an
 *  Error's message. */
export function messageOf(error) {
  if (error instanceof TypedError) return error.message;
  if (error instanceof DOMException) return describeWriteError(error);
  const lines = String(error?.message ?? error).trim().split("\n");
  return lines[lines.length - 1].replace(/^[\w.]+: /, "");
}
