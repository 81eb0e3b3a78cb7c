"""The npm package as an app uses it (tests/consumer/): `npm pack` of this repository,
installed into the fixture app, type-checked with `tsc --strict` (TypeScript 7 and 5.9, no
skipLibCheck) against a file that uses every declared member, bundled and minified by
Vite, served from a sub-path by build/serve.py and run in Chromium.

The fixture's own dependencies (TypeScript, Vite) are installed by `npm ci` from its
committed lock file into .cache/consumer/, and reinstalled only when that file changes.
The package is packed from dist/ as the session built it (`--ignore-scripts`: its prepack
script would rebuild dist/ under the other tests).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest
from harness import BOOT_TIMEOUT_MS, ROOT, Recorder, serve
from playwright.sync_api import Browser

pytestmark = pytest.mark.browser

FIXTURE = ROOT / "tests" / "consumer"
CACHE = ROOT / ".cache" / "consumer"
NPM_QUIET = ("--no-audit", "--no-fund", "--loglevel=error")


def npm(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run npm; a failure fails the test with npm's output."""
    done = subprocess.run(["npm", *args], cwd=cwd, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        pytest.fail(f"npm {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done


def fixture_app() -> Path:
    """.cache/consumer/app: the fixture's files, with its locked dependencies installed
    (npm ci only when the lock file differs from the one installed)."""
    app = CACHE / "app"
    lock = (FIXTURE / "package-lock.json").read_bytes()
    stamp = app / "node_modules" / ".fixture-lock-sha256"
    installed = stamp.read_text() if stamp.is_file() else None
    if app.is_dir():
        for path in app.iterdir():
            if path.name != "node_modules":
                shutil.rmtree(path) if path.is_dir() else path.unlink()
    shutil.copytree(FIXTURE, app, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("node_modules", "dist", "public"))
    if installed != hashlib.sha256(lock).hexdigest():
        npm("ci", *NPM_QUIET, cwd=app)
        stamp.write_text(hashlib.sha256(lock).hexdigest())
    return app


@pytest.fixture(scope="module")
def packed(site: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tarball `npm pack` makes of the session's build."""
    destination = tmp_path_factory.mktemp("pack")
    npm("pack", "--ignore-scripts", "--pack-destination", str(destination), *NPM_QUIET, cwd=ROOT)
    (tarball,) = destination.glob("cortexkg-*.tgz")
    return tarball


@pytest.fixture(scope="module")
def app(packed: Path) -> Path:
    """The fixture app with the packed package installed (npm install <tarball>)."""
    app = fixture_app()
    shutil.rmtree(app / "node_modules" / "cortexkg", ignore_errors=True)
    npm("install", "--no-save", *NPM_QUIET, str(packed), cwd=app)
    return app


def test_the_package_ships_the_runtime_and_declarations_and_no_test_pages(packed: Path) -> None:
    with tarfile.open(packed) as archive:
        names = {name.removeprefix("package/") for name in archive.getnames()}
        manifest = json.load(archive.extractfile("package/package.json"))
    site = json.loads((ROOT / "dist" / "site.json").read_text())
    needed = {"dist/cortexkg.js", "dist/cortexkg.d.ts", "dist/engine.js", "dist/engine.d.ts",
              "dist/worker.js", "dist/boot.js", "dist/site.json",
              f"dist/{site['cortexkg']}", f"dist/{site['kernel']}",
              f"dist/{site['indexURL']}pyodide.asm.wasm"}
    assert needed <= names, needed - names
    # the dashboard page and the test and benchmark pages are not the package's
    assert not [name for name in names if name.startswith(("dist/pytest/", "dist/bench/", "dist/dashboard/"))
                or name in ("dist/main.js", "dist/index.html", "dist/sw.js")]
    # the runtime is in dist/vendor/: an app installs no pyodide of its own
    assert manifest.get("dependencies", {}) == {}
    assert manifest["type"] == "module" and "private" not in manifest


def declared_members(declarations: str) -> dict[str, str]:
    """What a .d.ts offers an app, each name with the pattern of its use: exports by name,
    class members as `.member`, option fields as `field:`, events as `"type"`."""
    uses = {name: rf"\b{name}\b" for name in re.findall(
        r"^export (?:declare )?(?:class|const|function|type|interface) (\w+)", declarations, re.M)}
    for body in re.findall(r"^export (?:declare )?class \w+[^{]*\{\n(.*?)^\}", declarations, re.M | re.S):
        for name in re.findall(r"^  (?:(?:static|readonly|private) )*(\w+)\??[(:<]", body, re.M):
            if name != "constructor":  # `new CortexKG()` is checked by a @ts-expect-error
                uses[f".{name}"] = rf"\.{name}\b"
    for kind, body in re.findall(r"^export interface \w+(Options|EventMap) \{\n(.*?)^\}",
                                 declarations, re.M | re.S):
        for name in re.findall(r"^  (\w+)\??:", body, re.M):
            uses[f"{name}:" if kind == "Options" else f'"{name}"'] = (
                rf"\b{name}:" if kind == "Options" else f'"{name}"')
    return uses


def test_the_every_member_file_uses_every_declared_member() -> None:
    text = (FIXTURE / "src" / "every-member.ts").read_text()
    for declarations in ("cortexkg.d.ts", "engine.d.ts"):
        uses = declared_members((ROOT / "web" / declarations).read_text())
        # the parser sees each kind of declaration
        assert {"CortexKG", ".create", ".stats", "durability:", '"change"'} <= set(uses) or \
            {"AllocationEngine", ".destroy", ".importState", "loadEngine", "assetsURL:"} <= set(uses)
        unused = sorted(name for name, pattern in uses.items() if not re.search(pattern, text))
        assert not unused, f"{declarations}: not used in every-member.ts: {unused}"


@pytest.mark.parametrize("typescript", ["typescript", "typescript-5.9"])
def test_every_declared_member_type_checks_under_strict(app: Path, typescript: str) -> None:
    config = json.loads((app / "tsconfig.json").read_text())["compilerOptions"]
    assert config["strict"] is True and "skipLibCheck" not in config
    version = json.loads((app / "node_modules" / typescript / "package.json").read_text())["version"]
    done = subprocess.run(["node", f"node_modules/{typescript}/bin/tsc", "-p", "."],
                          cwd=app, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"tsc {version}:\n{done.stdout}{done.stderr}"


def test_a_vite_build_runs_from_a_sub_path_and_keeps_error_names(
    app: Path, browser: Browser, tmp_path: Path
) -> None:
    build = npm("run", "build", cwd=app)
    # the package needs no workaround: Vite warns about nothing it cannot resolve
    assert "warn" not in (build.stdout + build.stderr).lower(), build.stdout + build.stderr
    www = tmp_path / "www"
    shutil.copytree(app / "dist", www / "app")
    (www / "index.html").write_text('<!doctype html><a href="app/">app</a>\n')

    with serve(www, tmp_path / "requests.log") as server:
        context = browser.new_context()
        recorder = Recorder(origin=server.url)
        recorder.attach(context)
        page = context.new_page()
        page.goto(server.url + "app/")
        page.wait_for_selector("html[data-done='true']", state="attached", timeout=4 * BOOT_TIMEOUT_MS)
        report = json.loads(page.get_by_test_id("report").inner_text())
        context.close()
        assert recorder.problems() == []
        assert "failed" not in report, report
        # both workers booted from the app's assetsURL (app/cortexkg/), not from assets/
        # (the second revalidates the first's copy)
        assert sum(server.count("GET", "/app/cortexkg/site.json", status) for status in (200, 304)) == 2
        assert server.count("GET", "/app/assets/site.json", 404) == 0

    def failed_as(caught: dict, name: str) -> bool:
        # instanceof finds the class and its base; the name survives the minifier, which
        # renamed the class itself (so the name cannot come from it)
        return (caught["name"] == name and caught["classes"] == ["CortexKGError", name]
                and caught["constructorName"] != name)

    assert failed_as(report["construct"], "NotInitializedError")
    assert failed_as(report["badAssetsURL"], "InvalidInputError")
    assert "assetsURL" in report["badAssetsURL"]["message"]
    assert report["allocated"] == {"seven": 0, "rows": [1, 2, 3], "more": [4, 5], "info": 2, "count": 6, "free": 2}
    assert report["imported"]["emptied"] == 0
    assert {key: report["imported"][key] for key in ("count", "seven")} == {"count": 6, "seven": 0}
    assert failed_as(report["errors"]["invalidId"], "InvalidInputError")
    assert failed_as(report["errors"]["notAllocated"], "AllocationError")
    assert failed_as(report["errors"]["badFile"], "StateError")
    assert report["changes"] == ["allocate"]
    assert failed_as(report["closed"], "NotInitializedError")
    # the synchronous engine, bundled into the app's own worker, booted from the same assets
    assert report["engineWorker"] == {"columns": [0, 1], "full": "AllocationError", "history": [[5, 0], [6, 1]]}
