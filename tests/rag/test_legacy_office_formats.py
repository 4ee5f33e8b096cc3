"""Old .doc/.xls/.ppt files: converted by LibreOffice when it is installed, otherwise refused with what to do."""

from __future__ import annotations

import os
import shutil
import sys
import textwrap
import time

import pytest

from rag.parsing import Limits, ParseError, parse
from tests.rag import documents


def no_soffice(monkeypatch):
    real_which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None if name in ("soffice", "libreoffice") else
                        real_which(name, *a, **k))


def fake_soffice(tmp_path, monkeypatch, body: str) -> None:
    """A stand-in for soffice: a Python script taking soffice's arguments, installed where shutil.which looks."""
    script = tmp_path / "soffice"
    script.write_text(f"#!{sys.executable}\nimport pathlib, sys, os, time\n" + textwrap.dedent(body))
    script.chmod(0o755)
    real_which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: str(script) if name == "soffice" else
                        real_which(name, *a, **k))


@pytest.mark.parametrize(("ext", "saved_as"), [("doc", ".docx"), ("xls", ".xlsx"), ("ppt", ".pptx")])
def test_legacy_files_are_refused_with_a_japanese_message_when_libreoffice_is_absent(monkeypatch, ext, saved_as):
    no_soffice(monkeypatch)
    with pytest.raises(ParseError) as caught:
        parse(f"old.{ext}", documents.fake_legacy_bytes())
    assert f"古い形式（.{ext}）" in caught.value.user_message
    assert saved_as in caught.value.user_message


def test_a_legacy_file_is_converted_by_soffice_and_parsed_as_the_new_format(tmp_path, monkeypatch):
    converted = tmp_path / "converted.docx"
    converted.write_bytes(documents.docx_bytes())
    fake_soffice(tmp_path, monkeypatch, f"""
        args = sys.argv[1:]
        assert "--headless" in args and any(a.startswith("-env:UserInstallation=file://") for a in args)
        target = args[args.index("--convert-to") + 1]
        out = pathlib.Path(args[args.index("--outdir") + 1])
        source = pathlib.Path(args[-1])
        (out / (source.stem + "." + target)).write_bytes(pathlib.Path({str(converted)!r}).read_bytes())
    """)
    document = parse("old.doc", documents.fake_legacy_bytes())
    assert document.format == "docx"
    assert any("施行する" in section.text for section in document.sections)
    assert document.warnings == [".doc 形式を LibreOffice で .docx 形式に変換して読み込みました。"]


def test_a_conversion_that_hangs_is_killed_at_the_timeout(tmp_path, monkeypatch):
    pid_file = tmp_path / "pid"
    fake_soffice(tmp_path, monkeypatch, f"""
        pathlib.Path({str(pid_file)!r}).write_text(str(os.getpid()))
        time.sleep(60)
    """)
    started = time.perf_counter()
    with pytest.raises(ParseError, match="時間内に終わりませんでした"):
        parse("old.xls", documents.fake_legacy_bytes(), limits=Limits(soffice_timeout_seconds=1.0))
    assert time.perf_counter() - started < 10
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_file.read_text()), 0)


def test_a_failed_conversion_is_refused(tmp_path, monkeypatch):
    fake_soffice(tmp_path, monkeypatch, "sys.exit(1)\n")
    with pytest.raises(ParseError, match="変換できませんでした"):
        parse("old.ppt", documents.fake_legacy_bytes())


def test_a_new_format_file_under_an_old_extension_is_read_as_what_it_is(monkeypatch):
    no_soffice(monkeypatch)
    document = parse("renamed.xls", documents.xlsx_bytes())
    assert document.format == "xlsx"


def test_an_old_format_file_under_a_new_extension_goes_through_conversion(monkeypatch):
    no_soffice(monkeypatch)
    with pytest.raises(ParseError, match=r"古い形式（\.doc）"):
        parse("renamed.docx", documents.fake_legacy_bytes())
