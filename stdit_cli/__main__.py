"""`python -m stdit_cli` runs the `stdit` command line."""

from stdit_cli.entry import run

if __name__ == "__main__":
    run()
