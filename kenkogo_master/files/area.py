"""The file area as the application holds it: the sandbox, the editor, and threads to run them."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from kenkogo_master.errors import HubError
from kenkogo_master.files.editor import TextEditor
from kenkogo_master.files.sandbox import Sandbox, supported
from kenkogo_master.files.uploads import Uploads
from kenkogo_master.settings import Settings

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

# File work has threads of its own: a long copy or a slow disk must not hold up the default
# executor, which name lookups and other libraries share.
WORKERS = 8


class FileArea:
    """Everything the file API needs, started from the settings."""

    def __init__(self, settings: Settings) -> None:
        """Create the root if missing and open it."""
        files = settings.files
        self.root = files.resolved_root(settings.storage.data_dir)
        self.max_upload = files.max_upload
        self.upload_chunk = files.upload_chunk
        self.sandbox = Sandbox(self.root)
        self.editor = TextEditor(self.sandbox, files.max_edit)
        self.uploads = Uploads(files.upload_idle)
        self._executor = ThreadPoolExecutor(WORKERS, thread_name_prefix="files")

    async def run(self, call: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run blocking file work in the area's threads."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(call, *args, **kwargs))

    def close(self) -> None:
        """Wait for running file work, drop unfinished uploads, then let go of the root."""
        self._executor.shutdown(wait=True, cancel_futures=True)
        for session in self.uploads.clear():
            try:
                self.sandbox.drop_part(session.parts, session.temp)
            except HubError as exc:  # its folder went meanwhile: so did the part file
                log.debug("the part file of upload %s: %s", session.id, exc.code)
        self.sandbox.close()


def open_area(settings: Settings) -> FileArea | None:
    """Return the file area, or None (with a warning) where paths cannot be walked safely."""
    if not supported():
        log.warning("the file area is off: this system lacks the *at calls with O_NOFOLLOW")
        return None
    return FileArea(settings)
