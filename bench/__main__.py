"""`python -m bench [entries ...]`: every benchmark (today: the monthly billing export)."""

from __future__ import annotations

import sys

from bench import billing_export

if __name__ == "__main__":
    sys.exit(billing_export.main(sys.argv[1:]))
