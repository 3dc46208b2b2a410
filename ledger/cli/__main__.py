"""``python -m ledger.cli``."""

from . import main

main()
