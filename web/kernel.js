// The column-scan kernel (py/cortexkg/scans/kernel.wat, assembled by build_site.py) on
// Pyodide's own memory: instantiated with {env: {memory: pyodide._module.memory}}, it
// reads and writes Python's buffers where they are. Python reaches its exports as the
// module `cortexkg_kernel` (only through cortexkg.host.wasm_kernel()).

// The smallest module that uses SIMD128 (i8x16.splat, i8x16.popcnt): it validates
// exactly when the browser supports WebAssembly SIMD.
export const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0,
  253, 15, 253, 98, 11,
]);

/** Whether this browser runs WebAssembly SIMD. */
export function simdSupported() {
  return WebAssembly.validate(SIMD_PROBE);
}

/**
 * Fetch and compile the kernel, which needs no Pyodide yet (so it overlaps its loading).
 * Resolves to the module, or to null without WebAssembly SIMD.
 */
export function compileKernel(url) {
  return simdSupported() ? WebAssembly.compileStreaming(fetch(url)) : Promise.resolve(null);
}

/**
 * Instantiate the compiled kernel on pyodide's memory and register it for Python.
 * Resolves to true; to false (and registers nothing) without one, so that the engine's
 * backend "auto" falls back to numpy or the reference scans.
 */
export async function loadKernel(pyodide, compiled) {
  const module = await compiled;
  if (module === null) return false;
  const instance = await WebAssembly.instantiate(module, { env: { memory: pyodide._module.memory } });
  pyodide.registerJsModule("cortexkg_kernel", instance.exports);
  return true;
}
