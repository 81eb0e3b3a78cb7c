"""dist/ brought up to date: exactly this build's files, unchanged ones left as they are."""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def sync_tree(dist: Path, files: dict[str, Path], generated: dict[str, str]) -> tuple[int, int]:
    """Make dist hold exactly files (copied) and generated (written); return (copied, removed).

    A file is copied only when its size or modification time differs from the copy's
    (copies keep the source's time), and written only when its text differs, so
    unchanged files keep their ETag. Every write goes through a temporary file and a
    rename, so a running server never serves half a file.
    """
    copied = 0
    for relative, source in files.items():
        target = dist / relative
        source_stat = source.stat()
        if target.is_file():
            target_stat = target.stat()
            if (target_stat.st_size, target_stat.st_mtime_ns) == (
                source_stat.st_size, source_stat.st_mtime_ns
            ):
                continue
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        shutil.copy2(source, partial)
        os.replace(partial, target)
        copied += 1
    for relative, text in generated.items():
        target = dist / relative
        if target.is_file() and target.read_text() == text:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        partial.write_text(text)
        os.replace(partial, target)
        copied += 1

    expected = set(files) | set(generated)
    removed = 0
    for path in sorted(dist.rglob("*"), reverse=True):  # children before their folders
        relative = path.relative_to(dist).as_posix()
        if path.is_dir():
            if not any(path.iterdir()):
                path.rmdir()
        elif relative not in expected:
            path.unlink()
            removed += 1
    return copied, removed
