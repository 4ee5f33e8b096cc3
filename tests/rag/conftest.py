from __future__ import annotations

import pytest

from tests.rag import network_guard


@pytest.fixture
def no_network(monkeypatch) -> list[str]:
    """Refuses every non-loopback connection and name lookup for the test; returns the attempts made."""
    network_guard.attempts.clear()
    for owner, name, replacement in network_guard.PATCHES:
        monkeypatch.setattr(owner, name, replacement)
    return network_guard.attempts
