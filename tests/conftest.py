"""Shared test configuration."""

from __future__ import annotations

import pytest

# The emulator's opt-in fixtures, enabled the way users enable them.
pytest_plugins = ["langchain_grok.testing.pytest_plugin"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect standard tests a class declares it cannot judge (`needs_a_real_model`).

    LangChain's standard classes refuse overrides, and skipping would hide the choice; the
    deselected tests are reported in pytest's summary and run in `integration_tests/`.
    """
    keep: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        cls = getattr(item, "cls", None)
        name = getattr(item, "originalname", item.name)
        if cls is not None and name in getattr(cls, "needs_a_real_model", ()):
            dropped.append(item)
        else:
            keep.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep
