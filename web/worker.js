// The dedicated module worker: the only place Python runs. A thin adapter between the
// page's messages and Python; it decides nothing itself. Booting is in boot.js.
//
// Messages to the page:
//   {type: "progress", message}   a boot step
//   {type: "ready", runtime}      booted; runtime = {pyodide, python, cortexkg,
//                                 crossOriginIsolated, timerResolutionMs}
//   {type: "error", message}      booting failed
import { boot } from "./boot.js";

boot((message) => postMessage({ type: "progress", message })).then(
  ({ runtime }) => postMessage({ type: "ready", runtime }),
  (error) => postMessage({
    type: "error",
    message: error instanceof Error ? error.message : String(error),
  }),
);
