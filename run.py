"""`python run.py` in a checkout: the same command line as the installed `eclair` (see
facilitation/cli.py), with the same arguments."""

from __future__ import annotations

import sys

from facilitation.cli import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
