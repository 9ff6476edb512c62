"""Allow `python -m kenkogo_master.runner`."""

from kenkogo_master.runner.cli import main

raise SystemExit(main())
