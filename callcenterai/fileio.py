"""File writes that are all or nothing (a failed stage leaves the old outputs), and CSV cells
that a spreadsheet opening the file will not run."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterator


def md5_of(path: Path, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.md5(usedforsecurity=False)  # a content address, as DVC uses it; not a signature
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_of(path: Path, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def tree_digest(folder: Path) -> str:
    """One sha256 over every file below ``folder`` (relative names and contents)."""
    folder = Path(folder)
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(f"{path.relative_to(folder).as_posix()}\0{sha256_of(path)}\n".encode())
    return digest.hexdigest()


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def _default_permissions(root: Path) -> None:
    """Give ``root`` and everything under it the modes a plain ``open`` would have.

    mkdtemp/mkstemp make 0700/0600, and some writers (safetensors) do too; a
    service running as another user must still read the model it is given.
    """
    mask = _umask()
    paths = [root, *root.rglob("*")] if root.is_dir() else [root]
    for path in paths:
        if not path.is_symlink():
            path.chmod((0o777 if path.is_dir() else 0o666) & ~mask)


def write_json(path: Path, payload: Any, sort_keys: bool = True) -> None:
    path.write_text(json.dumps(payload, indent=2, sort_keys=sort_keys) + "\n", encoding="utf-8")


@contextlib.contextmanager
def staged_directory(dest: Path) -> Iterator[Path]:
    """Yield an empty folder beside ``dest``; on success it replaces ``dest``.

    If the body raises, the staged folder is removed and ``dest`` is untouched.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.staging-", dir=dest.parent))
    try:
        yield staging
        _default_permissions(staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    backup = dest.with_name(f".{dest.name}.previous")
    shutil.rmtree(backup, ignore_errors=True)
    if dest.exists():
        os.replace(dest, backup)
    os.replace(staging, dest)
    shutil.rmtree(backup, ignore_errors=True)


@contextlib.contextmanager
def staged_files(*targets: Path) -> Iterator[list[Path]]:
    """Yield temporary paths for ``targets``; all are moved into place only on success."""
    targets = tuple(Path(t) for t in targets)
    staged = []
    for target in targets:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        os.close(handle)
        staged.append(Path(name))
    try:
        yield staged
        for path in staged:
            _default_permissions(path)
    except BaseException:
        for path in staged:
            path.unlink(missing_ok=True)
        raise
    for path, target in zip(staged, targets):
        os.replace(path, target)


# What a spreadsheet reads as the start of a formula (CSV injection; OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(cell: str) -> str:
    """``cell``, with a leading apostrophe when a spreadsheet would run it as a formula.

    The apostrophe is not a letter, so text normalisation drops it: a defused ticket
    trains a model exactly as the ticket did.
    """
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell
