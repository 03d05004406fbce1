"""Benchmarks (`make bench` runs `python -m bench`)."""

import sys
from pathlib import Path

# What the Lambda layer puts on sys.path in AWS (`import helpdesk...`).
_LAYER = Path(__file__).resolve().parents[1] / "layers" / "domain"
if str(_LAYER) not in sys.path:
    sys.path.insert(0, str(_LAYER))
