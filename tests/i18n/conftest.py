"""Fixtures: the project's catalog tree, copied so tests never write into the checkout."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kenkogo_master.i18n import Catalogs, Translator, default_locales_dir, load_catalogs


def copy_locales(target: Path) -> Path:
    """Copy the catalog sources (no compiled files) into `target` and return it."""
    shutil.copytree(
        default_locales_dir(), target, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.mo")
    )
    return target


@pytest.fixture(scope="session")
def catalogs(tmp_path_factory: pytest.TempPathFactory) -> Catalogs:
    """Load the shipped catalogs once, compiled in a temporary copy."""
    return load_catalogs(copy_locales(tmp_path_factory.mktemp("locales")))


@pytest.fixture
def locales_dir(tmp_path: Path) -> Path:
    """Give each test its own copy of the catalog tree to compile or break."""
    return copy_locales(tmp_path / "locales")


@pytest.fixture
def translator(catalogs: Catalogs) -> Translator:
    """Give each test a fresh translator (its own overrides and caches) over the catalogs."""
    return Translator(catalogs)
