"""Old binary Office formats (.doc .xls .ppt), converted to OOXML by LibreOffice when it is installed."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from .types import Limits, ParseError

TARGET = {"doc": "docx", "xls": "xlsx", "ppt": "pptx"}
_APPLICATION = {"doc": "Word", "xls": "Excel", "ppt": "PowerPoint"}


def refusal(ext: str) -> str:
    return (
        f"古い形式（.{ext}）のファイルはこのサーバーでは読み込めません。"
        f"{_APPLICATION[ext]} で開き、「名前を付けて保存」で .{TARGET[ext]} 形式にしてからアップロードしてください。"
    )


def soffice_path() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert(data: bytes, ext: str, limits: Limits) -> bytes:
    """Convert with ``soffice --headless --convert-to`` in a private temp dir; refuse if LibreOffice is absent."""
    soffice = soffice_path()
    if not soffice:
        raise ParseError(refusal(ext))
    target = TARGET[ext]
    with tempfile.TemporaryDirectory(prefix="akagi-soffice-") as tmp:
        work = Path(tmp)
        source = work / f"input.{ext}"
        source.write_bytes(data)
        out_dir = work / "out"
        out_dir.mkdir()
        command = [
            soffice,
            # A profile per conversion: two soffice processes sharing one profile block each other.
            f"-env:UserInstallation={(work / 'profile').as_uri()}",
            "--headless",
            "--norestore",
            "--nolockcheck",
            "--convert-to",
            target,
            "--outdir",
            str(out_dir),
            str(source),
        ]
        # Its own session, so a timeout kills soffice.bin and every helper it started, not just the wrapper.
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            cwd=tmp,
            env={**os.environ, "HOME": tmp},
            start_new_session=True,
        )
        try:
            process.communicate(timeout=limits.soffice_timeout_seconds)
        except subprocess.TimeoutExpired as error:
            _kill_group(process)
            raise ParseError(
                f".{ext} ファイルの変換が時間内に終わりませんでした。"
                f".{target} 形式で保存し直してからアップロードしてください。"
            ) from error
        converted = out_dir / f"input.{target}"
        if process.returncode != 0 or not converted.is_file() or converted.stat().st_size == 0:
            raise ParseError(
                f".{ext} ファイルを変換できませんでした（壊れているかパスワードで保護されています）。"
                f".{target} 形式で保存し直してからアップロードしてください。"
            )
        return converted.read_bytes()


def _kill_group(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
