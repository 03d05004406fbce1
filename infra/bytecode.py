"""Compile a SAM build's Python sources to bytecode, as the last step of `make build`.

`sam build` (aws-lambda-builders, without Docker) unpacks the layer's wheels and copies our
sources, but writes no `.pyc`: every cold start would then compile every module it imports,
and Lambda's `/var/task` and `/opt` are read-only, so nothing is ever cached. Measured on this
machine (bench/results.md, Cold start): `import boto3` 0.28-0.34 s with bytecode against
1.3-2.1 s without.

The build's bytecode is written as unchecked-hash `.pyc` (PEP 552): Python loads it without
comparing the source's modification time, which a zip file rounds to two seconds (a
timestamp `.pyc` would then be ignored). Only for a read-only artifact: in a source tree an
unchecked `.pyc` would hide later edits.

Usage: `python -m infra.bytecode DIR...` with the interpreter of the functions' runtime.
"""

from __future__ import annotations

import compileall
import py_compile
import re
import sys
from pathlib import Path

from infra.cfn_template import load_template


def runtime_version(template: dict[str, object] | None = None) -> tuple[int, int]:
    """The Python version of the functions' runtime (Globals.Function.Runtime, python3.X)."""
    found = (template or load_template())["Globals"]["Function"]["Runtime"]  # type: ignore[index]
    match = re.fullmatch(r"python(\d+)\.(\d+)", str(found))
    if match is None:
        raise ValueError(f"not a Python runtime: {found!r}")
    return int(match[1]), int(match[2])


def compile_tree(
    root: Path,
    mode: py_compile.PycInvalidationMode = py_compile.PycInvalidationMode.UNCHECKED_HASH,
) -> bool:
    """Write the bytecode of every module under `root`; False if some module did not compile
    (a library's file for another Python, never imported: it is reported, and left as is)."""
    return bool(compileall.compile_dir(str(root), quiet=1, invalidation_mode=mode))


def main(argv: list[str]) -> int:
    wanted = runtime_version()
    if sys.version_info[:2] != wanted:
        print(
            f"infra.bytecode: Python {sys.version_info[0]}.{sys.version_info[1]} cannot write "
            f"bytecode for the python{wanted[0]}.{wanted[1]} runtime",
            file=sys.stderr,
        )
        return 2
    for folder in argv:
        if not compile_tree(Path(folder)):
            print(f"infra.bytecode: some modules under {folder} did not compile", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
