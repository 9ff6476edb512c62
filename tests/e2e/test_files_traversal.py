"""Every way out of the file area, through every operation that takes a path, is refused.

One Master serves the whole module; its root holds links that point out, a FIFO and a socket,
next to a folder outside the root with a secret in it. Each trick goes through each operation
(trick × operation), must be refused with 400, and the test area, outside the root and in it,
must look exactly as before: same names, kinds, sizes, times, modes and link targets.
"""

from __future__ import annotations

import os
import socket
import stat
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from yarl import URL

from kenkogo_master.app import create_app
from tests.conftest import ADMIN_TOKEN, make_settings

pytestmark = pytest.mark.asyncio(loop_scope="module")

V1 = "/api/v1"
REFUSED = {"path_outside_root", "invalid_path", "special_file"}
PWNED = f"/tmp/kenkogo-pwned-{uuid.uuid4().hex}"


@dataclass(frozen=True)
class Trick:
    """A path as the server receives it; `raw` is sent on the wire as it is, undecoded."""

    name: str
    value: str
    raw: str | None = None


def _raw(name: str, raw: str) -> Trick:
    """A trick sent percent-encoded on the wire; JSON bodies carry what the URL decodes to."""
    return Trick(name, unquote(raw), raw)


TRICKS = [
    Trick("parent", ".."),
    Trick("parent-file", "../outside/secret.txt"),
    Trick("parent-after-folder", "inside/../../outside/secret.txt"),
    Trick("parent-to-root", "inside/../.."),
    Trick("dot-parent", "./../outside"),
    Trick("dot-in-middle", "inside/./../../outside"),
    Trick("absolute", "/etc/passwd"),
    Trick("absolute-tmp", PWNED),
    Trick("double-slash-absolute", "//etc/passwd"),
    Trick("root-slash", "/"),
    Trick("home", "~"),
    Trick("home-file", "~/.bashrc"),
    Trick("other-home", "~root/.bashrc"),
    Trick("home-inside", "inside/~/x"),
    Trick("nul", "inside/file.txt\x00.png"),
    Trick("nul-alone", "\x00"),
    Trick("backslash-parent", "..\\outside\\secret.txt"),
    Trick("backslash-inside", "inside\\..\\..\\outside"),
    Trick("windows-drive", "C:\\Windows\\win.ini"),
    Trick("unc", "\\\\server\\share"),
    Trick("double-encoded-parent", "%2e%2e/outside/secret.txt"),
    Trick("double-encoded-slash", "..%2foutside%2fsecret.txt"),
    Trick("double-encoded-all", "%2e%2e%2f%2e%2e%2fetc%2fpasswd"),
    Trick("double-encoded-inside", "inside/%2e%2e%2f%2e%2e%2foutside"),
    Trick("double-encoded-backslash", "..%5coutside"),
    Trick("triple-encoded", "%252e%252e%252foutside"),
    Trick("encoded-nul", "inside/%00.txt"),
    Trick("overlong-utf8", "%c0%ae%c0%ae/outside"),
    _raw("wire-encoded-parent", "%2e%2e%2foutside%2fsecret.txt"),
    _raw("wire-encoded-absolute", "%2fetc%2fpasswd"),
    _raw("wire-double-encoded", "%252e%252e%252foutside"),
    _raw("wire-encoded-nul", "inside%2f%00"),
    Trick("link-to-outside-folder", "escape/secret.txt"),
    Trick("link-to-outside-deeper", "escape/dir/inner.txt"),
    Trick("link-to-etc", "abs_escape/passwd"),
    Trick("link-itself", "escape"),
    Trick("link-to-outside-file", "escape_file"),
    Trick("link-in-middle", "inside/../escape/secret.txt"),
    Trick("overlong-name", "inside/" + "a" * 256),
    Trick("overlong-path", "/".join(["d" * 200] * 21)),
    Trick("control-character", "inside/new\nline"),
    Trick("fifo", "fifo"),
    Trick("socket", "sock"),
    Trick("empty-segment", "inside//file.txt"),
]
# A link is an entry of the root: deleting or moving it acts on the link, never on its target
# (see test_a_link_is_removed_and_moved_as_itself), so those two pairs are not refusals.
ACTS_ON_THE_LINK = {"link-itself", "link-to-outside-file"}

Call = Callable[[aiohttp.ClientSession, str, Trick], Awaitable[tuple[int, Any]]]


async def _query(
    http: aiohttp.ClientSession, method: str, url: str, trick: Trick, **kwargs: Any
) -> tuple[int, Any]:
    """Send `trick` as ?path=, raw when it has a wire form; other parameters after it."""
    extra = kwargs.pop("params", {})
    if trick.raw is not None:
        query = "&".join([f"path={trick.raw}", *(f"{k}={v}" for k, v in extra.items())])
        target: str | URL = URL(f"{url}?{query}", encoded=True)
    else:
        target = URL(url).with_query({"path": trick.value, **extra})
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}", **kwargs.pop("headers", {})}
    async with http.request(method, target, headers=headers, **kwargs) as response:
        return response.status, await response.json()


async def _json(http: aiohttp.ClientSession, url: str, body: dict[str, Any]) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    async with http.post(url, json=body, headers=headers) as response:
        return response.status, await response.json()


def _form(filename: str) -> tuple[bytes, dict[str, str]]:
    """A multipart body as a browser sends it: `"`, CR and LF percent-encoded (WHATWG)."""
    quoted = filename.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")
    quoted = quoted.replace("\\", "\\\\")  # a backslash arrives as itself
    body = (
        '--b\r\nContent-Disposition: form-data; name="file"; '
        f'filename="{quoted}"\r\n\r\npwned\r\n--b--\r\n'
    ).encode("utf-8", "surrogateescape")
    return body, {"Content-Type": "multipart/form-data; boundary=b"}


def _operations(base: str) -> dict[str, Call]:
    files = f"{base}{V1}/files"
    moved = "inside/pwned-moved"

    async def upload_into(http: aiohttp.ClientSession, url: str, trick: Trick) -> Any:
        body, headers = _form("pwned.txt")
        params = {"overwrite": "true"}
        return await _query(http, "POST", url, trick, data=body, headers=headers, params=params)

    async def upload_named(http: aiohttp.ClientSession, url: str, trick: Trick) -> Any:
        body, headers = _form(trick.value)
        auth = {"Authorization": f"Bearer {ADMIN_TOKEN}", **headers}
        async with http.post(
            url, params={"path": "", "overwrite": "true"}, data=body, headers=auth
        ) as response:
            return response.status, await response.json()

    return {
        "list": lambda http, _, t: _query(http, "GET", files, t),
        "usage": lambda http, _, t: _query(http, "GET", f"{files}/usage", t),
        "download": lambda http, _, t: _query(http, "GET", f"{files}/content", t),
        "upload-raw": lambda http, _, t: _query(
            http, "PUT", f"{files}/content", t, data=b"pwned", params={"overwrite": "true"}
        ),
        "upload-into-folder": lambda http, _, t: upload_into(http, f"{files}/upload", t),
        "upload-file-name": lambda http, _, t: upload_named(http, f"{files}/upload", t),
        "create-folder": lambda http, _, t: _json(http, f"{files}/folder", {"path": t.value}),
        "move-from": lambda http, _, t: _json(
            http, f"{files}/move", {"from": t.value, "to": moved, "overwrite": True}
        ),
        "move-to": lambda http, _, t: _json(
            http, f"{files}/move", {"from": "inside/file.txt", "to": t.value, "overwrite": True}
        ),
        "copy-from": lambda http, _, t: _json(
            http, f"{files}/copy", {"from": t.value, "to": moved, "overwrite": True}
        ),
        "copy-to": lambda http, _, t: _json(
            http, f"{files}/copy", {"from": "inside", "to": t.value, "overwrite": True}
        ),
        "delete-file": lambda http, _, t: _query(http, "DELETE", f"{files}/content", t),
        "delete-folder": lambda http, _, t: _query(
            http, "DELETE", files, t, params={"recursive": "true"}
        ),
        "read-text": lambda http, _, t: _query(http, "GET", f"{files}/text", t),
        "write-text": lambda http, _, t: _query(
            http, "PUT", f"{files}/text", t, data=b"pwned", headers={"If-Match": "*"}
        ),
    }


OPERATIONS = list(_operations(""))


Snapshot = dict[str, tuple[Any, ...]]


def snapshot(*tops: Path) -> Snapshot:
    """Describe every name below `tops` (links not followed): kind, size, times, mode, target."""
    seen: Snapshot = {}
    for top in tops:
        for folder, dirs, names in os.walk(top, followlinks=False):
            for name in [*dirs, *names, ""]:
                path = os.path.join(folder, name) if name else folder
                info = os.lstat(path)
                target = os.readlink(path) if stat.S_ISLNK(info.st_mode) else None
                seen[path] = (
                    stat.S_IFMT(info.st_mode),
                    info.st_size if not stat.S_ISDIR(info.st_mode) else None,
                    info.st_mtime_ns,
                    info.st_ctime_ns,
                    stat.S_IMODE(info.st_mode),
                    target,
                )
    for path in ("/etc/passwd", Path.home() / ".bashrc", "/etc/win.ini"):
        if os.path.lexists(path):
            info = os.lstat(path)
            seen[str(path)] = (info.st_size, info.st_mtime_ns, info.st_ctime_ns)
    seen["pwned-absolute"] = (os.path.lexists(PWNED),)
    return seen


@dataclass
class Area:
    """The running Master and the test area around its root."""

    url: str
    http: aiohttp.ClientSession
    top: Path
    data_dir: Path
    before: Snapshot
    data_names: set[str]
    operations: dict[str, Call]

    def changes(self) -> dict[str, Any]:
        """Return what differs from the snapshot taken before any request."""
        after = snapshot(self.top)
        changed: dict[str, Any] = {
            key: (self.before.get(key), after.get(key))
            for key in set(after) | set(self.before)
            if after.get(key) != self.before.get(key)
        }
        new_names = set(os.listdir(self.data_dir)) - self.data_names
        if any("pwned" in name for name in new_names):
            changed["data_dir"] = new_names
        return changed


def _build(top: Path) -> None:
    """Lay out the root with ways out of it, and an outside worth protecting."""
    root, outside = top / "root", top / "outside"
    (outside / "dir").mkdir(parents=True)
    (outside / "secret.txt").write_text("secret")
    (outside / "dir" / "inner.txt").write_text("inner")
    (root / "inside").mkdir(parents=True)
    (root / "inside" / "file.txt").write_text("inside")
    os.symlink("../outside", root / "escape")
    os.symlink("../outside/secret.txt", root / "escape_file")
    os.symlink("/etc", root / "abs_escape")
    os.mkfifo(root / "fifo")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(root / "sock"))


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def area(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Area]:
    """One Master for every trick and operation; its test area checked after each request."""
    base = tmp_path_factory.mktemp("traversal")
    top = base / "area"
    _build(top)
    data_dir = base / "data"
    settings = make_settings(data_dir, files__root=str(top / "root"))
    runner = web.AppRunner(create_app(settings), handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    url = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as http:
        yield Area(
            url, http, top, data_dir, snapshot(top), set(os.listdir(data_dir)), _operations(url)
        )
    await runner.cleanup()


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("trick", TRICKS, ids=[trick.name for trick in TRICKS])
async def test_trick_is_refused(area: Area, trick: Trick, operation: str) -> None:
    if trick.name in ACTS_ON_THE_LINK and operation in {"delete-file", "move-from"}:
        return  # the link itself is removed or moved; covered by a test of its own below
    status, body = await area.operations[operation](area.http, area.url, trick)
    refused = REFUSED
    if operation == "upload-file-name" and "\x00" in trick.value:
        refused = {"invalid_payload"}  # a part's header cannot carry a NUL: the body is bad
    assert status == 400 and body["code"] in refused, (trick, operation, status, body)
    assert area.changes() == {}, (trick, operation)


async def test_there_are_enough_tricks_and_operations() -> None:
    assert len(TRICKS) >= 25 and len(OPERATIONS) == 15


async def test_nothing_in_the_test_area_changed(area: Area) -> None:
    assert area.changes() == {}
    assert (area.top / "outside" / "secret.txt").read_text() == "secret"
    assert not os.path.lexists(PWNED)


async def test_a_link_is_removed_and_moved_as_itself(area: Area) -> None:
    root, outside = area.top / "root", area.top / "outside"
    before = snapshot(outside)
    os.symlink("../outside/secret.txt", root / "spare_link")
    status, body = await _json(
        area.http, f"{area.url}{V1}/files/move", {"from": "spare_link", "to": "inside/moved"}
    )
    assert status == 200 and body["kind"] == "symlink", body
    assert os.readlink(root / "inside" / "moved") == "../outside/secret.txt"
    trick = Trick("moved-link", "inside/moved")
    status, body = await _query(area.http, "DELETE", f"{area.url}{V1}/files/content", trick)
    assert status == 200, body
    assert not os.path.lexists(root / "inside" / "moved")
    assert (outside / "secret.txt").read_text() == "secret"
    assert snapshot(outside) == before
