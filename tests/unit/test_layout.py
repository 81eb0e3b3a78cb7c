"""The README's layout section is the tree: what it names exists, and a folder it lists
with its contents has no file it leaves out.

The section is a nested list: each item starts with a backquoted path relative to its
parent item's (the repository for the top level), a colon and the job. Test files
(``test_*.py`` under ``tests/``) may go unnamed: their names say what they test.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

import pytest
from readme import README

ROOT = README.parent
# An item: its indent, its path, and what follows the path (": the job").
_ITEM = re.compile(r"^(?P<indent> *)- `(?P<path>[^`]+)`(?P<rest>.*)$")
# What a working tree holds beside the tracked files (.gitignore's, and tools' caches).
_NOT_SOURCE = re.compile(r"^\.|^__pycache__$|\.pyc$|\.egg-info$")

# The unit tests also run inside Pyodide (web/pytest/), whose file system has no README.
needs_readme = pytest.mark.skipif(not README.is_file(),
                                  reason="the repository's source tree is not beside the unit tests")


class Item(NamedTuple):
    """One item: its path relative to the repository (a folder's ends in "/"), the
    folder item it is listed under ("" at the top level) and the text after the path."""

    path: str
    parent: str
    rest: str


def layout(text: str) -> list[Item]:
    """The layout section's items, in order."""
    section = re.search(r"^## Layout\n(.*?)^#", text, re.M | re.S)
    if section is None:
        raise ValueError("README.md has no '## Layout' section followed by another heading")
    items: list[Item] = []
    parents: list[tuple[int, str]] = []  # (indent, path) of the items enclosing this one
    for line in section[1].splitlines():
        match = _ITEM.match(line)
        if match is None:
            continue
        indent = len(match["indent"])
        while parents and parents[-1][0] >= indent:
            parents.pop()
        parent = parents[-1][1] if parents else ""
        items.append(Item(parent + match["path"], parent, match["rest"]))
        if match["path"].endswith("/"):
            parents.append((indent, parent + match["path"]))
    return items


def unnamed(items: list[Item], root: Path = ROOT) -> list[str]:
    """Files and folders of every folder listed with its contents that the layout does not
    name, test files under ``tests/`` excepted."""
    named = {item.path for item in items}
    missing = []
    for folder in sorted({item.parent for item in items} - {""}):
        for entry in sorted((root / folder).iterdir()):
            name = entry.name + ("/" if entry.is_dir() else "")
            if _NOT_SOURCE.search(entry.name) or folder + name in named:
                continue
            if folder.startswith("tests/") and re.fullmatch(r"test_\w+\.py", name):
                continue
            missing.append(folder + name)
    return missing


def test_layout_reads_nested_items_as_paths():
    text = ("## Layout\n\nIntro with `code`.\n\n- `a/`: a.\n  - `b.py`: b.\n  - `c/`: c,\n"
            "    wrapped.\n    - `d.js`: d.\n  - `e.py`: e.\n- `f.md`: f.\n\n### Next\n- `g`: no.\n")
    items = layout(text)
    assert [item.path for item in items] == ["a/", "a/b.py", "a/c/", "a/c/d.js", "a/e.py", "f.md"]
    assert [item.parent for item in items] == ["", "a/", "a/", "a/c/", "a/", ""]


def test_unnamed_finds_what_a_listed_folder_holds_beyond_its_items(tmp_path: Path):
    for name in ("a/b.py", "a/new.py", "a/__pycache__/b.pyc", "a/sub/x.py", "tests/u/test_x.py",
                 "tests/u/helper.py", "tests/u/conftest.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    items = [Item("a/", "", ": a"), Item("a/b.py", "a/", ": b"), Item("tests/", "", ": t"),
             Item("tests/u/", "tests/", ": u"), Item("tests/u/conftest.py", "tests/u/", ": c")]
    # a/sub/ is unnamed; its contents are not looked at, as it is not listed
    assert unnamed(items, tmp_path) == ["a/new.py", "a/sub/", "tests/u/helper.py"]


@needs_readme
def test_everything_the_layout_names_exists():
    items = layout(README.read_text())
    gone = [item.path for item in items if not (ROOT / item.path).exists()]
    assert not gone, f"README.md's layout names what is not in the tree: {gone}"


@needs_readme
def test_every_file_of_a_listed_folder_is_named():
    missing = unnamed(layout(README.read_text()))
    assert not missing, f"README.md's layout does not name: {missing}"


@needs_readme
def test_every_item_says_its_job():
    items = layout(README.read_text())
    silent = [item.path for item in items if not re.match(r":\s*\S", item.rest)]
    assert not silent, f"README.md's layout names these without a job: {silent}"
