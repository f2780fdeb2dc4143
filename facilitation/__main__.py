"""`python -m facilitation`: the `eclair` command, where its script is not on the PATH."""

import sys

from facilitation.cli import main

sys.exit(main(prog="python -m facilitation"))
