"""The Files page in a browser: browse, upload in chunks and back, resume, edit, move, delete."""

from __future__ import annotations

import asyncio
import os
import re
from contextlib import suppress
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page, Request, Route, expect

from tests.conftest import RunningMaster, StartMaster
from tests.panel.conftest import ARTIFACTS, PHONE, PanelPage, sign_in

CHUNK = 64 * 1024
# What a browser reports for refusals a test provokes on purpose: a move into a folder that
# does not exist (404), the conflict of two editors (412).
PROVOKED = re.compile(
    r"^(console: Failed to load resource: .* status of (404|412)|http: 404 .*/api/v1/files/move)"
)


async def files_master(start_master: StartMaster, tmp_path: Path) -> tuple[RunningMaster, Path]:
    root = tmp_path / "root"
    master = await start_master(files__root=str(root), files__upload_chunk=str(CHUNK))
    return master, root


def chunk_offsets(requests: list[Request]) -> list[int]:
    """Return the offsets of the chunk PUTs among `requests`, in order."""
    return [
        int(parse_qs(urlparse(request.url).query)["offset"][0])
        for request in requests
        if request.method == "PUT" and "/api/v1/files/uploads/" in request.url
    ]


def watch(page: Page) -> list[Request]:
    seen: list[Request] = []

    def note(request: Request) -> None:
        seen.append(request)

    page.on("request", note)
    return seen


async def test_upload_a_file_in_chunks_and_download_it_back_byte_identical(
    start_master: StartMaster, open_panel: Any, tmp_path: Path
) -> None:
    master, root = await files_master(start_master, tmp_path)
    panel: PanelPage = await open_panel(master)
    page = panel.page
    await sign_in(panel)
    await page.get_by_role("link", name="Files", exact=True).click()
    await expect(page.get_by_role("heading", name="Files", exact=True)).to_be_visible()
    await expect(page.get_by_text("The file area is empty")).to_be_visible()
    await panel.shot("files-empty")
    # A folder, then into it: the breadcrumbs say where we are.
    await page.get_by_role("button", name="New folder").click()
    dialog = page.get_by_role("dialog")
    await dialog.get_by_label("Folder name").fill("bad/name")
    await dialog.get_by_role("button", name="Create").click()
    await expect(dialog.get_by_role("alert")).to_have_text("A name is needed, without /.")
    await dialog.get_by_label("Folder name").fill("bots")
    await dialog.get_by_role("button", name="Create").click()
    await page.get_by_role("link", name="bots").click()
    crumbs = page.get_by_role("navigation", name="Folder")
    await expect(crumbs.get_by_role("link", name="bots")).to_have_attribute("aria-current", "page")
    await expect(page.get_by_text("This folder is empty.")).to_be_visible()
    # Upload 1.5 MiB in 64 KiB chunks.
    data = os.urandom(3 * 512 * 1024 + 777)
    source = tmp_path / "weather.db"
    source.write_bytes(data)
    requests = watch(page)
    await page.locator("input[data-role=upload-input]").set_input_files(str(source))
    item = page.locator(".upload-item[data-path='bots/weather.db']")
    await expect(item.locator(".upload-state")).to_have_text("Uploaded", timeout=30000)
    await expect(item).to_contain_text("100%")
    offsets = chunk_offsets(requests)
    assert offsets == list(range(0, len(data), CHUNK)), offsets
    assert (root / "bots" / "weather.db").read_bytes() == data
    row = page.locator("tr[data-path='bots/weather.db']")
    await expect(row).to_contain_text("1.5 MB")
    await panel.shot("files-uploaded-desktop-light")
    # Download it back through the page's own link.
    async with page.expect_download() as info:
        await row.get_by_role("link", name="Download").click()
    download = await info.value
    assert download.suggested_filename == "weather.db"
    assert Path(await download.path()).read_bytes() == data
    # Uploading the same name asks first; cancelling leaves the file as it was.
    await page.locator("input[data-role=upload-input]").set_input_files(
        {"name": "weather.db", "mimeType": "application/octet-stream", "buffer": b"other"}
    )
    confirm = page.get_by_role("dialog")
    await expect(confirm.get_by_role("heading")).to_have_text("Replace weather.db?")
    await confirm.get_by_role("button", name="Cancel").click()
    assert (root / "bots" / "weather.db").read_bytes() == data
    # The folder row in the top folder shows its total.
    await crumbs.get_by_role("link", name="Files").click()
    await expect(page.locator("tr[data-path='bots']")).to_contain_text("1.5 MB · files: 1")
    await panel.assert_clean()


async def test_an_upload_cut_by_a_reload_resumes_where_it_stopped(
    start_master: StartMaster, open_panel: Any, tmp_path: Path
) -> None:
    master, root = await files_master(start_master, tmp_path)
    panel: PanelPage = await open_panel(master)
    page = panel.page
    await sign_in(panel)

    async def slowly(route: Route) -> None:  # a slow line: the reload lands mid-upload
        await asyncio.sleep(0.25)
        with suppress(PlaywrightError):  # the page went away, or the upload was paused
            await route.continue_()

    await page.route(re.compile(r"/api/v1/files/uploads/[0-9a-f]+\?offset="), slowly)
    await panel.goto("/files")
    data = os.urandom(16 * CHUNK + 123)
    source = tmp_path / "backup.tar"
    source.write_bytes(data)
    async with page.expect_response(
        lambda r: r.request.method == "PUT" and r.url.endswith("?offset=0") and r.status == 200
    ):
        await page.locator("input[data-role=upload-input]").set_input_files(str(source))
    await page.reload()  # the tab goes away mid-upload: the chunk on its way is dropped
    item = page.locator(".upload-item[data-state='unfinished']")
    await expect(item).to_contain_text("backup.tar")
    await expect(item).to_contain_text("Unfinished: pick the same file to go on")
    assert not (root / "backup.tar").exists()
    await panel.shot("files-unfinished-upload")
    status, listed = await master.api("GET", "/api/v1/files/uploads")
    assert status == 200
    received = listed["items"][0]["offset"]
    assert 0 < received < len(data) and received % CHUNK == 0
    # Resume: pick the same file again; the chunks go on from the Master's offset.
    await page.unroute(re.compile(r"/api/v1/files/uploads/[0-9a-f]+\?offset="))
    requests = watch(page)
    async with page.expect_file_chooser() as chooser:
        await item.get_by_role("button", name="Resume…").click()
    await (await chooser.value).set_files(str(source))
    done = page.locator(".upload-item[data-path='backup.tar']")
    await expect(done.locator(".upload-state")).to_have_text("Uploaded", timeout=30000)
    assert not [r for r in requests if r.method == "POST" and r.url.endswith("/files/uploads")]
    assert chunk_offsets(requests)[0] == received  # resumed, not begun again
    assert (root / "backup.tar").read_bytes() == data
    await expect(page.locator(".upload-item[data-state='unfinished']")).to_have_count(0)
    # Pause and resume in the same tab, then cancel another: nothing is left behind.
    await page.route(re.compile(r"/api/v1/files/uploads/[0-9a-f]+\?offset="), slowly)
    second = tmp_path / "second.bin"
    second.write_bytes(os.urandom(12 * CHUNK))
    await page.locator("input[data-role=upload-input]").set_input_files(str(second))
    job = page.locator(".upload-item[data-path='second.bin']")
    await job.get_by_role("button", name="Pause").click()
    await expect(job.locator(".upload-state")).to_have_text("Paused")
    await page.unroute(re.compile(r"/api/v1/files/uploads/[0-9a-f]+\?offset="))
    await job.get_by_role("button", name="Resume").click()
    await expect(job.locator(".upload-state")).to_have_text("Uploaded", timeout=30000)
    assert (root / "second.bin").read_bytes() == second.read_bytes()
    third = tmp_path / "third.bin"
    third.write_bytes(os.urandom(8 * CHUNK))
    await page.route(re.compile(r"/api/v1/files/uploads/[0-9a-f]+\?offset="), slowly)
    await page.locator("input[data-role=upload-input]").set_input_files(str(third))
    job = page.locator(".upload-item[data-path='third.bin']")
    await expect(job.locator(".upload-state")).to_have_text("Uploading")
    await job.get_by_role("button", name="Cancel").click()
    await expect(job.locator(".upload-state")).to_have_text("Cancelled")
    await page.unroute(re.compile(r"/api/v1/files/uploads/[0-9a-f]+\?offset="))

    # The part file goes once the chunk under way when the cancel came has ended, too.
    def parts_left() -> list[str]:
        return [p.name for p in root.iterdir() if p.name.startswith(".kenkogo-upload-")]

    for _ in range(100):
        status, listed = await master.api("GET", "/api/v1/files/uploads")
        assert status == 200
        if not listed["items"] and not parts_left():
            break
        await asyncio.sleep(0.1)
    assert listed["items"] == []
    assert not (root / "third.bin").exists()
    assert parts_left() == []
    await panel.assert_clean()


async def test_rename_move_edit_with_a_conflict_and_delete_after_asking(
    start_master: StartMaster, open_panel: Any, tmp_path: Path
) -> None:
    master, root = await files_master(start_master, tmp_path)
    (root / "conf").mkdir(parents=True)
    (root / "conf" / "app.toml").write_text('greeting = "hello"\n')
    (root / "notes.txt").write_text("remember the milk\n")
    panel: PanelPage = await open_panel(master)
    page = panel.page
    await sign_in(panel)
    await panel.goto("/files")
    # Rename.
    await page.locator("tr[data-path='notes.txt']").get_by_role("button", name="Rename").click()
    dialog = page.get_by_role("dialog")
    await dialog.get_by_label("New name").fill("readme.txt")
    await dialog.get_by_role("button", name="Rename").click()
    await expect(page.locator("tr[data-path='readme.txt']")).to_be_visible()
    # Move into a folder that does not exist: the dialog says why and stays open.
    await page.locator("tr[data-path='readme.txt']").get_by_role("button", name="Move").click()
    await dialog.get_by_label("Target folder").fill("nowhere")
    await dialog.get_by_role("button", name="Move").click()
    await expect(dialog.get_by_role("alert")).to_be_visible()
    await dialog.get_by_label("Target folder").fill("conf")
    await dialog.get_by_role("button", name="Move").click()
    await expect(page.locator("tr[data-path='readme.txt']")).to_have_count(0)
    assert (root / "conf" / "readme.txt").read_text() == "remember the milk\n"
    # A file made elsewhere shows up without a reload (the event stream).
    status, _ = await master.api(
        "PUT", "/api/v1/files/content", params={"path": "from-api.txt"}, data=b"hi"
    )
    assert status == 201
    await expect(page.locator("tr[data-path='from-api.txt']")).to_be_visible()
    # Edit, while someone else saves the same file: a clear conflict, then a choice.
    await page.get_by_role("link", name="conf").click()
    await page.locator("tr[data-path='conf/app.toml']").get_by_role("button", name="Edit").click()
    editor = page.get_by_role("dialog")
    text = editor.get_by_label("Text")
    await expect(text).to_have_value('greeting = "hello"\n')
    await text.fill('greeting = "mine"\n')
    status, _ = await master.api(
        "PUT",
        "/api/v1/files/text",
        params={"path": "conf/app.toml"},
        data=b'greeting = "theirs"\n',
        headers={"If-Match": "*"},
    )
    assert status == 200
    await editor.get_by_role("button", name="Save").click()
    conflict = editor.get_by_role("alert").filter(has_text="Someone else saved this file")
    await expect(conflict).to_be_visible()
    await expect(text).to_have_value('greeting = "mine"\n')  # nothing the operator typed is lost
    await panel.shot("files-edit-conflict")
    await conflict.get_by_role("button", name="Load their version").click()
    await expect(text).to_have_value('greeting = "theirs"\n')
    await text.fill('greeting = "both"\n')
    await editor.get_by_role("button", name="Save").click()
    await expect(editor).to_have_count(0)
    assert (root / "conf" / "app.toml").read_text() == 'greeting = "both"\n'
    # Delete the folder: asked first; Cancel keeps it.
    await page.get_by_role("navigation", name="Folder").get_by_role("link", name="Files").click()
    folder = page.locator("tr[data-path='conf']")
    await folder.get_by_role("button", name="Delete").click()
    ask = page.get_by_role("dialog")
    await expect(ask).to_contain_text("The folder and everything in it will be deleted.")
    await panel.shot("files-delete-confirm")
    await ask.get_by_role("button", name="Cancel").click()
    assert (root / "conf").is_dir()
    await folder.get_by_role("button", name="Delete").click()
    await ask.get_by_role("button", name="Delete").click()
    await expect(folder).to_have_count(0)
    assert not (root / "conf").exists()
    assert [p for p in panel.problems if not PROVOKED.match(p)] == []
    assert await panel.csp_violations() == []


async def test_the_files_page_at_360_px_in_both_themes_and_languages(
    start_master: StartMaster, open_panel: Any, tmp_path: Path
) -> None:
    master, root = await files_master(start_master, tmp_path)
    (root / "a rather long folder name for a phone").mkdir(parents=True)
    (root / "weather").mkdir()
    (root / "weather" / "cities.json").write_text('{"tokyo": 1}\n')
    (root / "settings.toml").write_text("x = 1\n")
    (root / "photo.jpg").write_bytes(os.urandom(300_000))
    status, _ = await master.api(
        "POST", "/api/v1/files/uploads", json={"path": "half-done.bin", "size": 1_000_000}
    )
    assert status == 201
    panel: PanelPage = await open_panel(master, viewport=PHONE)
    page = panel.page
    await sign_in(panel)
    for theme in ("light", "dark"):
        await page.emulate_media(color_scheme=theme)
        await panel.goto("/files")
        await expect(page.locator("tr[data-path='photo.jpg']")).to_be_visible()
        await expect(page.locator("tr[data-path='weather']")).to_contain_text("files:")
        overflow = await page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{overflow}px too wide at 360 px ({theme})"
        await panel.shot(f"files-phone-{theme}")
        await page.screenshot(path=ARTIFACTS / f"files-phone-{theme}-screen.png")
    await page.locator("tr[data-path='settings.toml']").get_by_role("button", name="Edit").click()
    await expect(page.get_by_role("dialog").get_by_label("Text")).to_have_value("x = 1\n")
    await panel.shot("files-edit-phone-dark")
    await page.get_by_role("dialog").get_by_role("button", name="Close").click()
    for language, heading in (("zh_Hans", "文件"), ("ja", "ファイル")):
        await page.get_by_label({"zh_Hans": "Language", "ja": "语言"}[language]).select_option(
            language
        )
        await expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
        await expect(page.locator("tr[data-path='weather']")).to_contain_text(
            {"zh_Hans": "文件：", "ja": "ファイル："}[language]
        )
        await panel.shot(f"files-phone-dark-{language}")
        await page.screenshot(path=ARTIFACTS / f"files-phone-dark-{language}-screen.png")
    await page.set_viewport_size({"width": 1280, "height": 860})
    await page.emulate_media(color_scheme="dark")
    await panel.shot("files-desktop-dark-ja")
    await panel.assert_clean()
