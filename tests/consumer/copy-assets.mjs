// Copies the runtime assets of the installed cortexkg package (site.json and what it names:
// the Pyodide runtime, the cortexkg wheel, the scan kernel) into the folder given, which
// the app serves and passes to CortexKG.create({assetsURL}). Vite copies public/ as it is.
import { cpSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const target = process.argv[2];
if (!target) throw new Error("usage: node copy-assets.mjs <folder>");
const siteJson = fileURLToPath(import.meta.resolve("cortexkg/site.json"));
const source = dirname(siteJson);
const site = JSON.parse(readFileSync(siteJson, "utf8"));
rmSync(target, { recursive: true, force: true });
for (const path of ["site.json", site.indexURL, site.cortexkg, site.kernel, ...site.packages]) {
  cpSync(join(source, path), join(target, path), { recursive: true });
}
