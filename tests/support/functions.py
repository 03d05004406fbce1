"""Import a Lambda function's handler module by its folder, under a unique module name."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

FUNCTIONS_DIR = Path(__file__).resolve().parents[2] / "functions"


def load_function(name: str) -> ModuleType:
    """`load_function("jobs")` imports functions/jobs/app.py as `jobs_app`."""
    module_name = f"{name}_app"
    if module_name in sys.modules:
        return sys.modules[module_name]
    folder = FUNCTIONS_DIR / name
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    spec = importlib.util.spec_from_file_location(module_name, folder / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module
