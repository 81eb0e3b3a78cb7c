import { defineConfig } from "vite";

export default defineConfig({
  // relative URLs: the app works from any sub-path
  base: "./",
  // cortexkg's worker loads parts of itself and Pyodide with import(): an ES module worker
  worker: { format: "es" },
});
