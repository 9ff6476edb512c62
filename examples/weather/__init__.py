"""The weather example: a package folder (`python main.py app pack examples/weather`).

`examples.weather:app` still names its App for `python -m kenkogo_master.sdk.run`; a deployed
package runs `weather:app` from its own root, where this file is never imported.
"""

from examples.weather.weather import app

__all__ = ["app"]
