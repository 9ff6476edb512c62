"""The echo example: a package folder (`python main.py app pack examples/echo`).

`examples.echo:app` still names its App for `python -m kenkogo_master.sdk.run`; a deployed
package runs `echo:app` from its own root, where this file is never imported.
"""

from examples.echo.echo import app

__all__ = ["app"]
