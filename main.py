"""Start KenkoGo Master: `python main.py --help` lists the sub-commands."""

from kenkogo_master.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
