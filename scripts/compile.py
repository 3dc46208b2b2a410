"""Regenerate ledger/artifacts/ from contracts/ (`make artifacts`)."""

from __future__ import annotations

from ledger.chain.compiler import write_artifacts


def main() -> None:
    for path in write_artifacts():
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
