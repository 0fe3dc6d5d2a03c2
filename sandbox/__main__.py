"""``python -m sandbox [--host H] [--port P] [--seed S]``: run the sandbox in the foreground."""

from __future__ import annotations

import argparse

from .runner import serve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    serve(host=args.host, port=args.port, seed=args.seed)


if __name__ == "__main__":
    main()
