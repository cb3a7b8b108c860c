"""Opt-in pytest fixtures for the xAI emulator.

Enable them with `pytest_plugins = ["langchain_grok.testing.pytest_plugin"]` in a root
`conftest.py`. No `pytest11` entry point is registered on purpose: installing langchain-grok must
not change the fixtures of every project that happens to have it in its environment.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from langchain_grok._constants import API_KEY_ENV, BASE_URL_ENV
from langchain_grok.testing import FakeXAIServer

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture
def fake_xai_server() -> Iterator[FakeXAIServer]:
    """A started `FakeXAIServer`, stopped after the test (fresh script and records per test)."""
    with FakeXAIServer() as server:
        yield server


@pytest.fixture
def fake_xai_env(fake_xai_server: FakeXAIServer, monkeypatch: pytest.MonkeyPatch) -> FakeXAIServer:
    """The `fake_xai_server`, with `XAI_API_KEY` / `XAI_API_BASE` pointing at it.

    Code that builds its client from the environment (as `ChatGrok()` does) then talks to the
    emulator without any argument; monkeypatch restores the variables after the test.
    """
    monkeypatch.setenv(API_KEY_ENV, fake_xai_server.api_key)
    monkeypatch.setenv(BASE_URL_ENV, fake_xai_server.base_url)
    return fake_xai_server
