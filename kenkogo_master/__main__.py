"""Allow `python -m kenkogo_master`."""

from kenkogo_master.cli import main

raise SystemExit(main())
