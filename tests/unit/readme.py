"""The code examples of README.md, for the tests that run them.

An example is a fenced block; when the next block is a ```text block introduced by a
line "Prints:", that block is what the example prints, line for line. The Python
examples run under CPython (test_readme_examples.py here), the JavaScript ones in
Chromium against the built site (tests/browser/test_readme_examples.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"
FENCE = re.compile(r"^```(\S*)\s*$")
PRINTS = "Prints:"


@dataclass(frozen=True)
class Example:
    """One fenced block: its language, first line number in README.md, code, and the
    output the README says it prints (None when it says none)."""

    language: str
    line: int
    code: str
    prints: str | None

    @property
    def name(self) -> str:
        """How a test names it: README.md:<line> (<language>)."""
        return f"README.md:{self.line} ({self.language})"


def blocks(text: str) -> list[tuple[str, int, str, str]]:
    """Every fenced block as (language, first code line number, code, the last non-empty
    line before its fence)."""
    found, lines = [], text.splitlines()
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        before = next((line.strip() for line in reversed(lines[:index]) if line.strip()), "")
        end = index + 1
        while end < len(lines) and lines[end].rstrip() != "```":
            end += 1
        if end == len(lines):
            raise ValueError(f"README.md:{index + 1}: a fence that is never closed")
        found.append((opening[1], index + 2, "\n".join(lines[index + 1:end]) + "\n", before))
        index = end + 1
    return found


def examples(text: str | None = None) -> list[Example]:
    """The README's code blocks, each with the ```text block after "Prints:" that follows it."""
    found = blocks(README.read_text() if text is None else text)
    result: list[Example] = []
    for language, line, code, before in found:
        if before == PRINTS:
            if language != "text" or not result or result[-1].prints is not None:
                raise ValueError(f"README.md:{line}: a {PRINTS} block must be a ```text block "
                                 "right after the example it belongs to")
            last = result.pop()
            result.append(Example(last.language, last.line, last.code, code))
        else:
            result.append(Example(language, line, code, None))
    return result
