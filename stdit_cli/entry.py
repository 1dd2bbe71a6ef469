"""The ``stdit`` executable's entry point.

The console script imports this module, which imports nothing heavy, then the command line
inside :func:`run`: a Ctrl-C while that import runs (Click, Rich and the CLI modules, about a
tenth of a second) ends the command as any other interrupt does, exit status 130 with one line,
instead of a traceback through the import machinery.
"""

from __future__ import annotations

import sys

#: the exit status of a command stopped by SIGINT, as shells report it
INTERRUPTED_STATUS = 130


def run() -> None:
    try:
        from stdit_cli.cli import run as run_cli
    except KeyboardInterrupt:
        print("SIGINT: interrupted before the command started", file=sys.stderr)
        sys.exit(INTERRUPTED_STATUS)
    run_cli()
