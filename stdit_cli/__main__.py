"""`python -m stdit_cli` runs the `stdit` command line."""

from stdit_cli.cli import main

if __name__ == "__main__":
    main()
