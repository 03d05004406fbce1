"""`make build` ships bytecode (infra.bytecode): sam build writes none, and Lambda's code
directories are read-only, so without it every cold start compiles what it imports."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from infra import bytecode
from infra.bytecode import compile_tree, runtime_version
from tests.infra.test_makefile import dry_run


def test_the_runtime_version_is_the_templates() -> None:
    assert runtime_version() == (3, 13)
    assert runtime_version({"Globals": {"Function": {"Runtime": "python3.12"}}}) == (3, 12)
    with pytest.raises(ValueError, match="not a Python runtime"):
        runtime_version({"Globals": {"Function": {"Runtime": "nodejs20.x"}}})


def test_every_module_gets_unchecked_hash_bytecode(tmp_path: Path) -> None:
    """PEP 552 flags 0b01: hash-based, source not checked, so a zip's rounded mtimes do not
    make Python ignore it."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "mod.py").write_text("VALUE = 42\n")
    assert compile_tree(tmp_path) is True
    compiled = Path(importlib.util.cache_from_source(str(tmp_path / "pkg" / "mod.py")))
    header = compiled.read_bytes()[:16]
    assert header[:4] == importlib.util.MAGIC_NUMBER
    assert int.from_bytes(header[4:8], "little") == 0b01


def test_a_module_that_does_not_compile_is_reported(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("def f(:\n")
    assert compile_tree(tmp_path) is False


def test_another_python_refuses_to_write_bytecode_for_the_runtime(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "mod.py").write_text("VALUE = 42\n")
    monkeypatch.setattr(bytecode, "runtime_version", lambda: (3, 99))
    assert bytecode.main([str(tmp_path)]) == 2
    assert "cannot write bytecode for the python3.99 runtime" in capsys.readouterr().err
    assert not (tmp_path / "__pycache__").exists()


def test_make_build_compiles_the_build_after_sam_build() -> None:
    commands = dry_run("build")
    sam = commands.find("sam build")
    compile_step = commands.find("-m infra.bytecode .aws-sam/build")
    assert sam != -1, commands
    assert compile_step > sam, commands


def test_the_built_layer_holds_bytecode_for_every_module() -> None:
    """After `make build` (which `make test` runs first): each module of the layer, ours and
    the libraries', has its unchecked-hash `.pyc` for the runtime's Python."""
    layer = Path(__file__).resolve().parents[2] / ".aws-sam" / "build" / "DomainLayer" / "python"
    if not layer.is_dir():
        pytest.skip("no .aws-sam/build: run `make build` first")
    tag = f"cpython-{''.join(map(str, runtime_version()))}"
    sources = [p for p in layer.rglob("*.py") if "__pycache__" not in p.parts]
    missing = [
        str(source.relative_to(layer))
        for source in sources
        if source.parent.name != "__pycache__"
        and not (source.parent / "__pycache__" / f"{source.stem}.{tag}.pyc").is_file()
    ]
    assert sources and any(s.parts[-2] == "helpdesk" for s in sources)
    # A library may ship a file for another Python (never imported, compileall reports it).
    assert len(missing) <= len(sources) // 100, missing[:20]
