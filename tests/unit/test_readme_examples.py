"""Every Python example of README.md runs under CPython and prints what the README says."""

from __future__ import annotations

import ast
import asyncio
import contextlib
import io
import sys
from pathlib import Path

import pytest
from readme import README, Example, examples

# The unit tests also run inside Pyodide (web/pytest/), whose file system has no README;
# the reader's own test runs there too.
needs_readme = pytest.mark.skipif(not README.is_file(),
                                  reason="the repository's source tree is not beside the unit tests")

PYTHON = [e for e in examples() if e.language == "python"] if README.is_file() else []
# What the README's fenced blocks are written in; a block in another language would be
# run by no test, so a new one fails here until a test runs it.
RUN_ELSEWHERE = {"js", "ts"}  # tests/browser/test_readme_examples.py
NOT_EXAMPLES = {"sh", "text"}  # commands to type, and what examples print


def run(example: Example, directory: Path) -> str:
    """Run the example as a script in directory (top-level `await` allowed, as in an async
    REPL); what it printed."""
    code = compile(example.code, example.name, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    output = io.StringIO()
    with contextlib.chdir(directory), contextlib.redirect_stdout(output):
        coroutine = eval(code, {"__name__": "__main__"})  # noqa: S307 - the README's own code
        if coroutine is not None:
            asyncio.run(coroutine)
    return output.getvalue()


@needs_readme
def test_every_block_is_run_by_a_test_or_is_no_example() -> None:
    languages = {e.language for e in examples()}
    assert languages <= {"python"} | RUN_ELSEWHERE | NOT_EXAMPLES, languages
    assert len(PYTHON) >= 2
    # an example that says nothing would pass without showing anything
    assert all(e.prints for e in PYTHON), [e.name for e in PYTHON if not e.prints]


@needs_readme
@pytest.mark.parametrize("example", PYTHON, ids=lambda e: e.name)
def test_python_example_prints_what_the_readme_says(example: Example, tmp_path: Path) -> None:
    assert run(example, tmp_path) == example.prints


def test_prints_blocks_belong_to_the_example_before_them() -> None:
    text = "```python\nprint(1)\n```\n\nPrints:\n\n```text\n1\n```\n\n```sh\nls\n```\n"
    assert [(e.language, e.line, e.prints) for e in examples(text)] == [
        ("python", 2, "1\n"), ("sh", 12, None)]
    with pytest.raises(ValueError, match="README.md:4: a Prints: block"):
        examples("Prints:\n\n```text\n1\n```\n")
    with pytest.raises(ValueError, match="never closed"):
        examples("```python\nprint(1)\n")

