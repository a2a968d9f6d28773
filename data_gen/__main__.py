"""Command line for the kit's dataset generators: ``python -m data_gen DATASET [options]``.

Subcommands:
    billiards   the paper's billiards trajectories (§4.1), see ``data_gen/billiards.py``
    court       a synthetic stand-in for its basketball plays (§4.2), see ``data_gen/court.py``

Each generator module provides ``add_arguments(parser)`` and ``run(args, parser)``;
adding a dataset (for example a ``court`` subcommand) is one more entry in ``COMMANDS``.
Bad arguments exit with status 2 and a one-line reason.
"""
from __future__ import annotations

import argparse
import sys

from data_gen import billiards, court

# name -> (module, one-line help). Modules provide add_arguments(parser) and run(args, parser).
COMMANDS = {
    "billiards": (billiards, "billiards trajectories of paper §4.1 (one ball, elastic walls)"),
    "court": (court, "synthetic stand-in for the basketball plays of paper §4.2 (five agents, half court)"),
}


class OneLineErrorParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr (exit status 2), no usage block."""

    def error(self, message: str):  # noqa: D401 (argparse API)
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineErrorParser(prog="python -m data_gen", description="Generate the datasets of the NAOMI teaching kit.")
    sub = parser.add_subparsers(dest="command", metavar="DATASET", parser_class=OneLineErrorParser)
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=module.__doc__.splitlines()[0])
        module.add_arguments(p)
        p.set_defaults(_module=module, _parser=p)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.error(f"choose a dataset: {', '.join(COMMANDS)}")
    return args._module.run(args, args._parser)


if __name__ == "__main__":
    sys.exit(main())
