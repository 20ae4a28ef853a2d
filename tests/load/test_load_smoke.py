"""The three-channel load, short (`make load` is the long one): web-form, WhatsApp and email
customers against a real `fte up` on the provider fakes for 30 s. Every accepted message is
answered once and delivered once, per channel; then every process's log output is scanned for
the email addresses and phone numbers the run used, and none is there."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.load.run import run

pytestmark = pytest.mark.e2e


def test_thirty_seconds_of_three_channels_lose_nothing_and_log_no_pii(tmp_path: Path) -> None:
    result = run(users=20, spawn_rate=10, duration_s=30, out=tmp_path / "load", drain_s=120)
    for channel, figures in result.channels.items():
        assert figures["accepted"] > 0, channel
        assert figures["lost"] == 0, (channel, figures)
        assert figures["duplicated"] == 0, (channel, figures)
        assert figures["answered"] == figures["delivered"] == figures["accepted"], channel
    assert result.identities >= sum(f["accepted"] for f in result.channels.values()) // 3
    assert result.logs_scanned["fte-up.log"] > 10_000  # the children's logs are in it
    assert result.pii_found == []
    assert (tmp_path / "load" / "locust.html").is_file()
    assert result.locust["web: submit"]["failures"] == 0
