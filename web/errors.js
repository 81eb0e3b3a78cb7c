// The error classes of the JavaScript API, declared once: the page (cortexkg.js, which
// exports them), the synchronous engine (engine.js) and the worker (errorType) import them
// from here. Python names the class of each failure (cortexkg.errors.error_type); a test
// (tests/browser/test_call_path.py) checks that the two agree.

// Each class names itself: a minifier renames classes, so new.target.name would not do.
export class CortexKGError extends Error {
  name = "CortexKGError";
}
/** No free column, or a concept that is not allocated. */
export class AllocationError extends CortexKGError {
  name = "AllocationError";
}
/** A bad argument: an id outside 0..2**32-1, a wrong embedding, an unknown option. */
export class InvalidInputError extends CortexKGError {
  name = "InvalidInputError";
}
/** The engine is not initialized, or this instance was closed. */
export class NotInitializedError extends CortexKGError {
  name = "NotInitializedError";
}
/** Stored or imported state is invalid, or an engine invariant is broken. */
export class StateError extends CortexKGError {
  name = "StateError";
}
/** A change cannot be made durable now (the browser refuses writes: quota, I/O); the
 *  engine is left as it was. kg.storage says when writes are accepted again. */
export class StorageError extends CortexKGError {
  name = "StorageError";
}
/** A bug in cortexkg, not the caller's mistake: an internal rule failed. Its message says
 *  which; the Python traceback, when the engine reports one, is in .traceback. */
export class InternalError extends CortexKGError {
  name = "InternalError";
}
/** The engine's runtime could not start (worker, Pyodide, the wheel or the kernel). */
export class BootError extends CortexKGError {
  name = "BootError";
}

/** The error classes by name (the name a failure's type carries). */
export const ERROR_CLASSES = Object.freeze({
  AllocationError, InvalidInputError, NotInitializedError, StateError, StorageError, InternalError,
  BootError,
});

/** The error a failure's {type, message, traceback?} stands for (CortexKGError for an unknown type). */
export function errorOf({ type, message, traceback }) {
  const error = new (Object.hasOwn(ERROR_CLASSES, type) ? ERROR_CLASSES[type] : CortexKGError)(message);
  if (traceback !== undefined) error.traceback = traceback;  // cortexkg.errors.error_report
  return error;
}

/**
 * The class name for an error thrown inside the worker: a Python exception (PythonError)
 * names its Python class in .type, the worker's own TypedError the class itself.
 * cortexkg's InvalidConceptIdError is an InvalidInputError; any other Python exception
 * (a plain ValueError included) is a bug of ours, as cortexkg.errors.error_type says.
 */
export function errorType(error) {
  const type = error?.type;
  if (Object.hasOwn(ERROR_CLASSES, type)) return type;
  if (type === "InvalidConceptIdError") return "InvalidInputError";
  return type === undefined ? "Error" : "InternalError";
}
