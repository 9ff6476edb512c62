"""The keyword logger example: a package folder (`python main.py app pack examples/keyword_logger`).

`examples.keyword_logger:app` still names its App for `python -m kenkogo_master.sdk.run`; a deployed
package runs `keyword_logger:app` from its own root, where this file is never imported.
"""

from examples.keyword_logger.keyword_logger import app

__all__ = ["app"]
