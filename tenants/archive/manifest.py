"""The archive format: its members, the manifest that lists them with a checksum each, and its version.

An archive is a gzip-compressed tar (PAX) with, in this order:

``akagi-archive.json``
    ``{"format": "akagi-tenant-archive", "format_version": N}``, first so that an importer refuses an archive of
    another format or a newer version before reading anything else.
``tables/<table>.copy``
    One per table of the municipality's schema, in PostgreSQL's COPY text format (what ``COPY ... TO STDOUT``
    writes), in foreign-key order. Text, not binary: it reads back on any PostgreSQL ≥ 15 and pgvector version.
``media/<path under MEDIA_ROOT>``
    The files rows point to (documents' originals, tip images, log exports), paths as they were.
``public/*.json``
    What the public schema keeps for the municipality: its plan and its usage counters.
``manifest.json``
    Last, because only then are every member's size and SHA-256 known. It lists every other member.

Checksums detect a damaged or altered archive; they are not a signature (a deployment shares no key with
another). The archive holds password hashes and every prompt, so it is handled as confidential as a whole.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from tenants.jobs import JobFailed

FORMAT = "akagi-tenant-archive"
FORMAT_VERSION = 1
HEADER_MEMBER = "akagi-archive.json"
MANIFEST_MEMBER = "manifest.json"
TABLES_DIR = "tables/"
MEDIA_DIR = "media/"
PUBLIC_DIR = "public/"
TENANT_MEMBER = "public/tenant.json"
MONTHLY_USAGE_MEMBER = "public/monthly_usage.json"
DAILY_SUMMARY_MEMBER = "public/daily_usage_summary.json"

# Members read into memory (the manifest and the public JSON) are small; anything larger is not ours.
MAX_JSON_BYTES = 64 * 1024 * 1024
CHUNK = 1024 * 1024

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_MEMBER = re.compile(r"^[A-Za-z0-9._\-/]{1,900}$")


class ArchiveError(JobFailed):
    """The archive cannot be written or taken in; the message tells the operator why and what to do."""


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def is_identifier(name: str) -> bool:
    return isinstance(name, str) and bool(_IDENTIFIER.match(name))


def is_safe_member(name: str) -> bool:
    """A relative path of plain segments: nothing absolute, no ``..``, no empty or hidden tricks."""
    if not isinstance(name, str) or not _MEMBER.match(name) or name.startswith("/"):
        return False
    return all(part not in ("", ".", "..") for part in name.split("/"))


def header_bytes() -> bytes:
    return json.dumps({"format": FORMAT, "format_version": FORMAT_VERSION}).encode()


def check_version(data: dict[str, Any]) -> None:
    """Refuse another format or a version this code does not know (a newer Akagi wrote it)."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ArchiveError("Akagi の環境アーカイブではありません。運営コンソールまたは tenant_export で"
                           "書き出したファイル（.tar.gz）を指定してください。")
    version = data.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ArchiveError("アーカイブの形式の版が読み取れません。ファイルが壊れている可能性があります。"
                           "書き出し元でもう一度書き出してください。")
    if version > FORMAT_VERSION:
        raise ArchiveError(f"このアーカイブは新しい形式（第{version}版）で書き出されています。この環境が読める"
                           f"のは第{FORMAT_VERSION}版までです。取り込み先の Akagi を書き出し元と同じ版以上に"
                           "更新してから取り込んでください。")


@dataclass
class TableEntry:
    name: str
    member: str
    columns: list[str]
    rows: int
    # "data": loaded as it is; "reference": rows the new schema's migrations create themselves (content types,
    # permissions), read only to translate the ids that data rows point to.
    role: str = "data"

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "member": self.member, "columns": self.columns, "rows": self.rows,
                "role": self.role}


@dataclass
class MediaEntry:
    member: str
    path: str  # relative to MEDIA_ROOT in the source deployment, e.g. rag/t_demo_a/3/<hash>.pdf

    def as_dict(self) -> dict[str, Any]:
        return {"member": self.member, "path": self.path}


@dataclass
class Manifest:
    source: dict[str, Any]
    migrations: dict[str, list[str]]
    tables: list[TableEntry]
    media: list[MediaEntry]
    files: dict[str, dict[str, Any]]  # member -> {"sha256", "size"}, every member but the manifest
    created_at: str = ""
    akagi_version: str = ""
    embedding_model: str = ""
    warnings: list[str] = field(default_factory=list)
    format_version: int = FORMAT_VERSION
    # The small public/*.json members as read (and checked) in pass 1; not part of the manifest file.
    public: dict[str, bytes] = field(default_factory=dict)

    @property
    def source_schema(self) -> str:
        return self.source["schema"]

    def to_bytes(self) -> bytes:
        data = {
            "format": FORMAT,
            "format_version": self.format_version,
            "created_at": self.created_at,
            "akagi_version": self.akagi_version,
            "source": self.source,
            "migrations": self.migrations,
            "embedding_model": self.embedding_model,
            "tables": [t.as_dict() for t in self.tables],
            "media": [m.as_dict() for m in self.media],
            "files": self.files,
            "warnings": self.warnings,
        }
        return json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8")

    @classmethod
    def from_bytes(cls, raw: bytes) -> Manifest:
        """Parse and check the manifest's shape; every name in it must be safe to use as a path or identifier."""
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ArchiveError("アーカイブの目録（manifest.json）が読み取れません。ファイルが壊れているか、"
                               "書き換えられています。") from exc
        check_version(data)
        try:
            source = data["source"]
            schema = source["schema"]
            tables = [TableEntry(name=t["name"], member=t["member"], columns=list(t["columns"]),
                                 rows=int(t["rows"]), role=t.get("role", "data")) for t in data["tables"]]
            media = [MediaEntry(member=m["member"], path=m["path"]) for m in data["media"]]
            files = {name: {"sha256": str(info["sha256"]), "size": int(info["size"])}
                     for name, info in data["files"].items()}
            migrations = {str(app): [str(n) for n in names] for app, names in data["migrations"].items()}
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ArchiveError("アーカイブの目録（manifest.json）の内容が不完全です。ファイルが壊れているか、"
                               "書き換えられています。") from exc
        broken = not is_identifier(schema) or any(
            not is_identifier(t.name) or not all(is_identifier(c) for c in t.columns) or not t.columns
            or t.role not in ("data", "reference") or t.member != f"{TABLES_DIR}{t.name}.copy" or t.rows < 0
            for t in tables
        ) or any(
            not is_safe_member(m.path) or m.member != MEDIA_DIR + m.path or len(m.path.split("/")) < 3
            or m.path.split("/")[1] != schema
            for m in media
        ) or any(not is_safe_member(name) for name in files)
        if broken:
            raise ArchiveError("アーカイブの目録（manifest.json）に使えない名前が含まれています。"
                               "Akagi が書き出したアーカイブではないか、書き換えられています。")
        return cls(
            source=source, migrations=migrations, tables=tables, media=media, files=files,
            created_at=str(data.get("created_at", "")), akagi_version=str(data.get("akagi_version", "")),
            embedding_model=str(data.get("embedding_model", "")), warnings=list(data.get("warnings", [])),
            format_version=data["format_version"],
        )


class HashingReader:
    """Reads from a file object while computing the SHA-256 and size of what was read."""

    def __init__(self, raw):
        self.raw = raw
        self.digest = hashlib.sha256()
        self.size = 0

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.digest.update(data)
        self.size += len(data)
        return data

    def hexdigest(self) -> str:
        return self.digest.hexdigest()


def read_limited(fileobj, limit: int = MAX_JSON_BYTES) -> bytes:
    data = fileobj.read(limit + 1)
    if len(data) > limit:
        raise ArchiveError("アーカイブの管理用ファイルが大きすぎます。Akagi が書き出したアーカイブではありません。")
    return data
