"""The sandbox on a real file system: links swapped in between check and use are not followed."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kenkogo_master.errors import ErrorCode, HubError
from kenkogo_master.files.editor import TextEditor
from kenkogo_master.files.entries import Kind
from kenkogo_master.files.paths import Parts
from kenkogo_master.files.sandbox import Sandbox

SECRET = b"outside secret"


@dataclass
class Layout:
    """A root with a nested file, and an outside folder that mirrors its names."""

    root: Path
    outside: Path
    sandbox: Sandbox


@pytest.fixture
def layout(tmp_path: Path) -> Iterator[Layout]:
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "a" / "b").mkdir(parents=True)
    (root / "a" / "b" / "file").write_bytes(b"inside")
    outside.mkdir()
    (outside / "file").write_bytes(SECRET)
    (outside / "b").mkdir()
    (outside / "b" / "file").write_bytes(SECRET)
    sandbox = Sandbox(root)
    yield Layout(root, outside, sandbox)
    sandbox.close()


def swap_for_link(path: Path, target: Path) -> None:
    """Put a link to `target` where `path` was (the original moves aside)."""
    path.rename(path.with_name(path.name + ".moved"))
    os.symlink(target, path)


def on(label: str, at: Parts, action: Callable[[], None]) -> Callable[[str, Parts], None]:
    """Return a step hook that runs `action` once, when the sandbox reaches `label` at `at`."""
    fired = []

    def step(seen: str, parts: Parts) -> None:
        if seen == label and parts == at and not fired:
            fired.append(True)
            action()

    return step


def refused(call: Callable[..., object], *args: object) -> ErrorCode:
    """Return the code `call(*args)` is refused with."""
    with pytest.raises(HubError) as caught:
        call(*args)
    return caught.value.code


def test_a_folder_swapped_for_a_link_during_the_walk_is_not_followed(layout: Layout) -> None:
    sandbox, root = layout.sandbox, layout.root
    sandbox.on_step = on(
        "walk", ("a", "b"), lambda: swap_for_link(root / "a" / "b", layout.outside)
    )
    code = refused(sandbox.open_file, ("a", "b", "file"))
    assert code is ErrorCode.PATH_OUTSIDE_ROOT
    assert (root / "a" / "b").is_symlink()  # the swap happened before the open


def test_a_file_swapped_for_a_link_after_the_check_is_not_opened(layout: Layout) -> None:
    sandbox, root = layout.sandbox, layout.root
    target = root / "a" / "b" / "file"
    sandbox.on_step = on(
        "open", ("a", "b", "file"), lambda: swap_for_link(target, layout.outside / "file")
    )
    assert refused(sandbox.open_file, ("a", "b", "file")) is ErrorCode.PATH_OUTSIDE_ROOT
    assert target.is_symlink()


def test_a_fifo_swapped_in_after_the_check_is_refused_without_hanging(layout: Layout) -> None:
    sandbox, root = layout.sandbox, layout.root
    target = root / "a" / "b" / "file"

    def swap() -> None:
        target.unlink()
        os.mkfifo(target)

    sandbox.on_step = on("open", ("a", "b", "file"), swap)
    assert refused(sandbox.open_file, ("a", "b", "file")) is ErrorCode.SPECIAL_FILE


def test_a_folder_flipping_between_real_and_link_never_leaks(layout: Layout) -> None:
    """Race a thread that keeps swapping a/b for a link out against reads through it."""
    sandbox, root = layout.sandbox, layout.root
    real, link, spare = root / "a" / "b", root / "a" / "link-b", root / "a" / "real-b"
    os.symlink(layout.outside, link)
    stop = threading.Event()
    flips = 0

    def flip() -> None:
        nonlocal flips
        while not stop.is_set():
            os.rename(real, spare)  # a/b is gone for a moment
            os.rename(link, real)  # a/b is now the link out
            os.rename(real, link)
            os.rename(spare, real)  # a/b is the real folder again
            flips += 1

    racer = threading.Thread(target=flip)
    racer.start()
    seen: dict[object, int] = {}
    try:
        for _ in range(3000):
            try:
                opened = sandbox.open_file(("a", "b", "file"))
            except HubError as exc:
                seen[exc.code] = seen.get(exc.code, 0) + 1
                continue
            try:
                data = opened.read(0, 100)
            finally:
                opened.close()
            assert data == b"inside", "read through a link out of the root"
            seen["inside"] = seen.get("inside", 0) + 1
    finally:
        stop.set()
        racer.join()
    assert flips > 10
    # Mid-swap the name may be missing, a link, or (seen by the second look) a folder again.
    expected = {ErrorCode.PATH_OUTSIDE_ROOT, ErrorCode.NOT_FOUND, ErrorCode.NOT_A_FOLDER}
    assert set(seen) <= {"inside", *expected}, seen
    assert seen.get("inside", 0) > 0, seen


def test_recursive_delete_removes_links_not_their_targets(layout: Layout) -> None:
    sandbox, root, outside = layout.sandbox, layout.root, layout.outside
    os.symlink(outside, root / "a" / "b" / "out-dir")
    os.symlink(outside / "file", root / "a" / "out-file")
    sandbox.remove_folder(("a",), recursive=True)
    assert not (root / "a").exists()
    assert (outside / "file").read_bytes() == SECRET
    assert (outside / "b" / "file").read_bytes() == SECRET


def test_a_folder_swapped_for_a_link_during_a_copy_is_left_out(layout: Layout) -> None:
    sandbox, root, outside = layout.sandbox, layout.root, layout.outside
    (root / "a" / "c").mkdir()
    (root / "a" / "c" / "keep").write_bytes(b"keep")
    sandbox.on_step = on("walk", ("a", "b"), lambda: swap_for_link(root / "a" / "b", outside))
    copied = sandbox.copy(("a",), ("copy",), overwrite=False)
    assert copied.skipped == 1 and copied.files == 1, copied
    assert (root / "copy" / "c" / "keep").read_bytes() == b"keep"
    assert not os.path.lexists(root / "copy" / "b")
    found = [p.read_bytes() for p in (root / "copy").rglob("*") if p.is_file()]
    assert SECRET not in found


def test_a_link_swapped_in_before_a_move_is_replaced_not_followed(layout: Layout) -> None:
    sandbox, root, outside = layout.sandbox, layout.root, layout.outside
    (root / "new").write_bytes(b"new")
    (root / "target").write_bytes(b"old")
    sandbox.on_step = on(
        "move", ("target",), lambda: swap_for_link(root / "target", outside / "file")
    )
    entry = sandbox.move(("new",), ("target",), overwrite=True)
    assert entry.kind is Kind.FILE
    assert (root / "target").read_bytes() == b"new" and not (root / "target").is_symlink()
    assert (outside / "file").read_bytes() == SECRET


def test_an_upload_onto_a_link_swapped_in_is_refused(layout: Layout) -> None:
    sandbox, root, outside = layout.sandbox, layout.root, layout.outside
    upload = sandbox.begin_upload(("a", "new"), overwrite=True)
    upload.write(b"pwned")
    os.symlink(outside / "file", root / "a" / "new")
    assert refused(upload.commit) is ErrorCode.PATH_OUTSIDE_ROOT
    assert (outside / "file").read_bytes() == SECRET
    assert sorted(os.listdir(root / "a")) == ["b", "new"]  # the temporary file is gone


def test_the_editor_never_writes_through_a_link(layout: Layout) -> None:
    sandbox, root, outside = layout.sandbox, layout.root, layout.outside
    os.symlink(outside / "file", root / "a" / "notes")
    editor = TextEditor(sandbox, 1000)
    assert refused(editor.write, ("a", "notes"), b"pwned", ("*",)) is ErrorCode.PATH_OUTSIDE_ROOT
    assert refused(editor.read, ("a", "notes")) is ErrorCode.PATH_OUTSIDE_ROOT
    assert (outside / "file").read_bytes() == SECRET


def test_device_files_are_listed_but_never_opened() -> None:
    dev = Sandbox(Path("/dev"))
    try:
        kinds = {entry.name: entry.kind for entry in dev.listing(())}
        assert kinds["null"] is Kind.OTHER
        assert refused(dev.open_file, ("null",)) is ErrorCode.SPECIAL_FILE
        assert refused(dev.copy, ("null",), ("x",), False) is ErrorCode.SPECIAL_FILE
        assert refused(dev.remove_file, ("null",)) is ErrorCode.SPECIAL_FILE
        assert refused(dev.move, ("null",), ("x",), False) is ErrorCode.SPECIAL_FILE
        assert refused(dev.begin_upload, ("null",), True) is ErrorCode.SPECIAL_FILE
        assert refused(TextEditor(dev, 10).read, ("null",)) is ErrorCode.SPECIAL_FILE
    finally:
        dev.close()
    assert Path("/dev/null").is_char_device()


def test_no_descriptor_is_left_open(layout: Layout) -> None:
    sandbox, root = layout.sandbox, layout.root
    os.symlink(layout.outside, root / "escape")
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(20):
        sandbox.listing(("a",))
        sandbox.usage((), 1.0, 1000)
        opened = sandbox.open_file(("a", "b", "file"))
        opened.close()
        refused(sandbox.open_file, ("escape", "file"))
        refused(sandbox.listing, ("nope",))
        refused(sandbox.begin_upload, ("a", "b"), False)
        refused(sandbox.copy, ("a",), ("a", "b", "c"), False)
        upload = sandbox.begin_upload(("a", "up"), overwrite=True)
        upload.write(b"x")
        upload.commit()
        copied = sandbox.copy(("a",), ("c",), overwrite=False)
        assert copied.files == 2
        sandbox.remove_folder(("c",), recursive=True)
    assert len(os.listdir("/proc/self/fd")) == before


def test_usage_holds_a_descriptor_per_level_not_per_folder(layout: Layout) -> None:
    root = layout.root
    for index in range(300):  # more folders than a small descriptor limit allows at once
        (root / "wide" / str(index)).mkdir(parents=True)
        (root / "wide" / str(index) / "f").write_bytes(b"xy")
    usage = layout.sandbox.usage(("wide",), 5.0, 10_000)
    assert (usage.files, usage.folders, usage.size, usage.complete) == (300, 300, 600, True)


def test_listings_of_the_root_at_once_each_see_every_name(layout: Layout) -> None:
    """A page lists the root and adds up its usage at the same time, in two threads."""
    names = {f"entry-{number:03d}" for number in range(300)}
    for name in names:
        (layout.root / name).write_text("x")
    seen: list[set[str]] = []
    usages: list[int] = []

    def list_root() -> None:
        for _ in range(20):
            seen.append({entry.name for entry in layout.sandbox.listing(())})
            usages.append(layout.sandbox.usage((), 10.0, 100_000).files)

    threads = [threading.Thread(target=list_root) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(names <= listed for listed in seen)
    assert min(usages) >= len(names)
