// The app's service worker: it keeps this build's files (the page, its modules, the
// Pyodide runtime, the cortexkg wheel and the scan kernel) in Cache Storage, so a second
// visit starts without the network. web/main.js registers it once the engine is ready,
// when the browser's HTTP cache already holds every file: installing then costs
// revalidations, not a second download.
//
// build/build_site.py writes `const PRECACHE = {version, files}` above this text in
// dist/sw.js: version is a hash of every listed file, so a new build is a new worker
// script (the browser installs it) with a new cache; files are paths relative to this
// script. A classic script, not a module: every browser with service workers runs it.
/* global PRECACHE */

// Several apps may serve cortexkg from one origin under different paths: each cache
// name carries the worker's scope, and a worker deletes only its own scope's old caches.
const SCOPE = new URL(self.registration.scope).pathname;
const SUFFIX = `@${SCOPE}`;
const CACHE = `${PRECACHE.version}${SUFFIX}`;

self.addEventListener("install", (event) => {
  // addAll fails as a whole if any file fails: a worker with half a runtime is never
  // installed, and the previous one (or the network) keeps serving.
  event.waitUntil(caches.open(CACHE).then((cache) =>
    cache.addAll(PRECACHE.files.map((path) => new URL(path, self.location).href))));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys().then((names) => Promise.all(names
    .filter((name) => name.startsWith("cortexkg-") && name.endsWith(SUFFIX) && name !== CACHE)
    .map((name) => caches.delete(name)))));
});

self.addEventListener("fetch", (event) => {
  const { request } = event;
  if (request.method !== "GET" && request.method !== "HEAD") return;
  event.respondWith(cached(request).then((response) => response ?? fetch(request)));
});

// This build's copy of request, or undefined (the request then goes to the network).
async function cached(request) {
  const url = new URL(request.url);
  // a folder's URL is its index.html, as build/serve.py serves it; a page's own query
  // (?columns=...) selects an engine, not a file
  const navigation = request.mode === "navigate";
  if (navigation && url.pathname.endsWith("/")) url.pathname += "index.html";
  const cache = await caches.open(CACHE);
  // Cache Storage keeps GET responses; a HEAD (boot.js checks the wasm's MIME type
  // with one) is answered with the stored headers and no body.
  const response = await cache.match(url.href, { ignoreSearch: navigation, ignoreMethod: true });
  if (response === undefined || request.method === "GET") return response;
  return new Response(null, {
    status: response.status, statusText: response.statusText, headers: response.headers,
  });
}
