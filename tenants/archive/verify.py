"""Pass 1 of an import: the whole archive checked against its manifest while nothing is written.

The archive is read once as a stream (bounded memory whatever its size): format and version first, then every
member's SHA-256 and size, safe names only, nothing after the manifest; then the migration state of both ends
and the slug. A damaged, altered, foreign or newer archive is refused here, before anything exists.
"""

from __future__ import annotations

import json
import tarfile
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection

from tenants.archive import manifest as m
from tenants.archive import schema as s
from tenants.models import Domain, Tenant, schema_name_for, validate_slug

Report = Callable[[int, str], None]


def noop(progress: int, step: str = "") -> None:
    return None


BROKEN = (tarfile.TarError, EOFError, zlib.error, OSError)


def _broken(exc: BaseException) -> m.ArchiveError:
    error = m.ArchiveError("アーカイブが壊れているため読み取れません（gzip 圧縮の tar 形式ではないか、途中で切れて"
                           "います）。書き出したファイルをもう一度転送してください。何も作成していません。")
    error.__cause__ = exc
    return error


class _Guarded:
    """A member's file object whose read errors (damaged compression) become ArchiveError."""

    def __init__(self, raw):
        self.raw = raw

    def read(self, n: int = -1) -> bytes:
        try:
            return self.raw.read(n)
        except BROKEN as exc:
            raise _broken(exc) from exc


class ArchiveStream:
    """One sequential pass over the archive's members (bounded memory: the tar is read as a stream)."""

    def __init__(self, path: Path, report: Report, start: int, span: int, label: str):
        self.path, self.report, self.start, self.span, self.label = path, report, start, span, label
        self.sha256 = ""

    def __iter__(self) -> Iterator[tuple[str, _Guarded]]:
        total = max(1, self.path.stat().st_size)
        last = time.monotonic()
        with open(self.path, "rb") as raw:
            digest = m.HashingReader(raw)
            try:
                tar = tarfile.open(fileobj=digest, mode="r|gz")  # noqa: SIM115 - closed below, errors translated
            except BROKEN as exc:
                raise _broken(exc) from exc
            with tar:
                members = iter(tar)
                while True:
                    try:
                        info = next(members)
                    except StopIteration:
                        break
                    except BROKEN as exc:
                        raise _broken(exc) from exc
                    if not info.isreg():
                        raise m.ArchiveError(f"アーカイブに通常のファイル以外（{info.name[:100]}）が含まれています。"
                                             "Akagi が書き出したアーカイブではありません。何も作成していません。")
                    if time.monotonic() - last > 0.5:
                        last = time.monotonic()
                        self.report(self.start + self.span * min(digest.size, total) // total, self.label)
                    yield info.name, _Guarded(tar.extractfile(info))
            while digest.read(m.CHUNK):  # the rest of the file counts in the archive's checksum too
                pass
            self.sha256 = digest.hexdigest()


def _drain(fileobj) -> m.HashingReader:
    reader = m.HashingReader(fileobj)
    while reader.read(m.CHUNK):
        pass
    return reader


def verify_archive(path: Path | str, *, report: Report | None = None) -> tuple[m.Manifest, str]:
    """Pass 1: the whole archive checked against its manifest, nothing written; returns the manifest and the
    archive file's SHA-256 (for the audit trail). Raises ArchiveError."""
    path, report = Path(path), report or noop
    if not path.is_file():
        raise m.ArchiveError(f"アーカイブのファイルが見つかりません: {path}")
    seen: dict[str, dict[str, Any]] = {}
    public: dict[str, bytes] = {}
    manifest_raw = header = None
    stream = ArchiveStream(path, report, 2, 38, "アーカイブを検証しています")
    for name, fileobj in stream:
        if manifest_raw is not None:
            raise m.ArchiveError("アーカイブの目録（manifest.json）の後ろに余分なファイルがあります。"
                                 "書き換えられたアーカイブは取り込めません。")
        if not m.is_safe_member(name) or name in seen:
            raise m.ArchiveError(f"アーカイブに使えない名前のファイル（{name[:100]}）があります。"
                                 "Akagi が書き出したアーカイブではないか、書き換えられています。")
        if header is None:
            if name != m.HEADER_MEMBER:
                m.check_version({})
            raw = m.read_limited(fileobj)
            try:
                header = json.loads(raw)
            except ValueError:
                header = {}
            m.check_version(header)
            seen[name] = {"sha256": m.sha256_hex(raw), "size": len(raw)}
        elif name == m.MANIFEST_MEMBER:
            manifest_raw = m.read_limited(fileobj)
        elif name.startswith(m.PUBLIC_DIR):
            public[name] = m.read_limited(fileobj)
            seen[name] = {"sha256": m.sha256_hex(public[name]), "size": len(public[name])}
        else:
            reader = _drain(fileobj)
            seen[name] = {"sha256": reader.hexdigest(), "size": reader.size}
    if header is None or manifest_raw is None:
        raise m.ArchiveError("アーカイブが途中で終わっています（目録 manifest.json がありません）。"
                             "書き出したファイルをもう一度転送してください。")
    manifest = m.Manifest.from_bytes(manifest_raw)
    if manifest.format_version != header.get("format_version"):
        raise m.ArchiveError("アーカイブの先頭と目録で形式の版が一致しません。"
                             "書き換えられたアーカイブは取り込めません。")
    for name in sorted(set(seen) | set(manifest.files)):
        if seen.get(name) != manifest.files.get(name):
            raise m.ArchiveError(
                f"アーカイブの内容が目録と一致しません（{name[:100]} のチェックサムまたはサイズが異なるか、"
                "ファイルが欠けています）。アーカイブが壊れているか書き換えられています。書き出し元で"
                "もう一度書き出し、そのファイルを取り込んでください。何も作成していません。")
    expected = ({m.HEADER_MEMBER, m.TENANT_MEMBER, m.MONTHLY_USAGE_MEMBER, m.DAILY_SUMMARY_MEMBER}
                | {t.member for t in manifest.tables} | {e.member for e in manifest.media})
    if set(seen) != expected or len({t.name for t in manifest.tables}) != len(manifest.tables):
        raise m.ArchiveError("アーカイブの目録とファイルの構成が一致しません。Akagi が書き出したアーカイブでは"
                             "ないか、書き換えられています。何も作成していません。")
    manifest.public = public
    return manifest, stream.sha256


def check_compatible(manifest: m.Manifest) -> None:
    here = s.code_migration_state()
    if manifest.migrations != here:
        differing = sorted(app for app in set(here) | set(manifest.migrations)
                           if here.get(app) != manifest.migrations.get(app))
        raise m.ArchiveError(
            "書き出し元と取り込み先で Akagi のデータベースの構成（マイグレーション）が異なります"
            f"（{', '.join(differing)}）。書き出し元と取り込み先の Akagi を同じ版にそろえ、書き出し元で"
            "migrate_schemas を実行してから書き出し直してください。何も作成していません。")


def check_slug_free(slug: str) -> None:
    try:
        validate_slug(slug)
    except ValidationError as exc:
        raise m.ArchiveError(" ".join(exc.messages)) from exc
    from tenants.services import domain_for

    if (Tenant.objects.filter(slug=slug).exists() or Domain.objects.filter(domain=domain_for(slug)).exists()
            or _schema_exists(schema_name_for(slug))):
        raise m.ArchiveError(slug_taken(slug))


def slug_taken(slug: str) -> str:
    return (f"識別子「{slug}」の利用団体は既に存在します。別の識別子を指定して取り込んでください"
            "（既存の環境を上書きすることはありません）。何も作成していません。")


def _schema_exists(schema: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", [schema])
        return cursor.fetchone() is not None
