"""``manage.py pii_scan``: JSON lines in, findings out, unreadable lines reported by number."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from guard.management.commands.pii_scan import Command


class FakeStdin:
    """Like sys.stdin: the command reads the bytes of ``.buffer`` as UTF-8, whatever the locale."""

    def __init__(self, text: str):
        self.buffer = io.BytesIO(text.encode("utf-8"))


def run(monkeypatch, lines: str) -> tuple[list[dict], str]:
    monkeypatch.setattr("sys.stdin", FakeStdin(lines))
    out, err = io.StringIO(), io.StringIO()
    call_command(Command(), stdout=out, stderr=err)
    return [json.loads(line) for line in out.getvalue().splitlines()], err.getvalue()


def test_each_prompt_gets_one_line_with_its_id_and_its_findings(monkeypatch):
    lines = '{"id": "a", "text": "岡本さんに電話"}\n{"id": "b", "text": "公園の利用案内"}\n'
    results, err = run(monkeypatch, lines)
    assert results == [
        {"id": "a", "findings": [{"type": "person_name", "start": 0, "end": 2}]},
        {"id": "b", "findings": []},
    ]
    assert err == ""


def test_output_keeps_japanese_unescaped(monkeypatch):
    monkeypatch.setattr("sys.stdin", FakeStdin('{"id": "名前", "text": "x"}\n'))
    out = io.StringIO()
    call_command(Command(), stdout=out)
    assert '"名前"' in out.getvalue()


def test_bad_lines_are_reported_by_number_and_the_rest_is_still_scanned(monkeypatch):
    lines = (
        '{"id": 1, "text": "０９０－１３５７－２４６８"}\n'
        "これはJSONではない\n"
        '{"id": 3}\n'
        "\n"
        '{"id": 5, "text": "なし"}\n'
    )
    monkeypatch.setattr("sys.stdin", FakeStdin(lines))
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command(Command(), stdout=out, stderr=err)
    assert raised.value.returncode == 1
    assert [json.loads(line)["id"] for line in out.getvalue().splitlines()] == [1, 5]
    assert "2行目" in err.getvalue() and "3行目" in err.getvalue()
    assert "1行目" not in err.getvalue()


def test_the_command_is_registered_under_its_name(monkeypatch):
    monkeypatch.setattr("sys.stdin", FakeStdin('{"id": 1, "text": "s.ito@example.com"}\n'))
    out = io.StringIO()
    call_command("pii_scan", stdout=out)
    assert json.loads(out.getvalue())["findings"] == [{"type": "email", "start": 0, "end": 17}]
