"""The landing page at `/`: served without a token, with its assets, and nothing else from disk."""

from __future__ import annotations

from tests.conftest import RunningMaster


async def test_the_landing_page_links_to_the_api_reference(master: RunningMaster) -> None:
    async with master.http.get(master.url + "/") as response:
        page = await response.text()
        assert response.status == 200
        assert response.content_type == "text/html"
    assert 'href="/api/v1/docs"' in page and 'href="/health"' in page
    for asset in ("/static/health.js", "/static/style.css"):
        assert asset in page
        async with master.http.get(master.url + asset) as response:
            assert response.status == 200, asset


async def test_static_files_do_not_reach_outside_their_folder(master: RunningMaster) -> None:
    for path in ("/static/../main.py", "/static/%2e%2e/main.py", "/static/"):
        async with master.http.get(master.url + path) as response:
            assert response.status in (403, 404), path
