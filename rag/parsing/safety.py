"""Checks made before any parser sees the bytes: size, real format by content, and zip bombs.

Formats are recognised by their content, not their name: a renamed .exe must not reach a parser, an OLE file
named .docx is either a password-protected Office file or an old-format file with the wrong extension.
"""

from __future__ import annotations

import io
import zipfile

from .types import MB, Limits, ParseError

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")

# The part every file of the format has; its absence means another kind of zip (or another Office format).
OOXML_MAIN_PART = {"docx": "word/document.xml", "xlsx": "xl/workbook.xml", "pptx": "ppt/presentation.xml"}
OOXML_LABEL = {"docx": "Word（.docx）", "xlsx": "Excel（.xlsx）", "pptx": "PowerPoint（.pptx）"}


def check_size(data: bytes, limits: Limits) -> None:
    if not data:
        raise ParseError("ファイルが空です（0 バイト）。中身のあるファイルを選んでください。")
    if len(data) > limits.max_file_bytes:
        raise ParseError(
            f"ファイルが大きすぎます（{len(data) / MB:.1f} MB。上限は {limits.max_file_bytes / MB:g} MB です）。"
            "ファイルを分割するか、画像を圧縮してからアップロードしてください。"
        )


def is_ole(data: bytes) -> bool:
    return data.startswith(OLE_MAGIC)


def is_encrypted_office(data: bytes) -> bool:
    """Password-protected .docx/.xlsx/.pptx are OLE containers holding an ``EncryptedPackage`` stream."""
    return is_ole(data) and _ENCRYPTED_PACKAGE in data


def password_message() -> str:
    return (
        "パスワードで保護されたファイルは読み込めません。"
        "パスワードを解除して保存し直してからアップロードしてください。"
    )


def check_ooxml(data: bytes, kind: str, limits: Limits) -> None:
    """Refuse anything that is not a sane OOXML package of ``kind`` without inflating a single member.

    zipfile never returns more bytes for a member than its declared size (it stops reading there), so the
    declared sizes in the central directory are a true upper bound on what parsing can inflate.
    """
    label = OOXML_LABEL[kind]
    if not data.startswith(ZIP_MAGIC):
        raise ParseError(
            f"{label} ファイルではありません（中身の形式が違います）。ファイルを開いて保存し直してください。"
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
        raise ParseError(
            f"{label} ファイルが壊れています。元のアプリケーションで開いて保存し直してください。"
        ) from error
    if len(members) > limits.max_zip_members:
        raise ParseError(
            f"{label} ファイルの中の部品が多すぎます（{len(members)} 個）。安全のため読み込みません。"
        )
    total = 0
    for member in members:
        total += member.file_size
        if (
            member.file_size > limits.ratio_checked_above_bytes
            and member.file_size > limits.max_compression_ratio * max(member.compress_size, 1)
        ):
            raise _bomb(label)
    if total > limits.max_uncompressed_bytes:
        raise _bomb(label)
    if OOXML_MAIN_PART[kind] not in {member.filename for member in members}:
        raise ParseError(
            f"{label} ファイルではありません（必要な部品がありません）。拡張子が正しいか確認してください。"
        )


def _bomb(label: str) -> ParseError:
    return ParseError(
        f"{label} ファイルを展開すると極端に大きくなるため、安全のため読み込みません（圧縮爆弾の疑い）。"
        "元のアプリケーションで開いて保存し直すか、内容を分割してください。"
    )
