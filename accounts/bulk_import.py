"""一括登録・変更・削除: users added, changed and deleted from one CSV or Excel file, all or nothing.

The flow is upload -> ``parse_upload`` -> ``validate`` -> ``save_preview`` (the parsed rows, never the file, in the
cache under a random token) -> the administrator reads the preview -> ``apply`` re-checks everything that depends
on the database inside one transaction and writes it -> generated passwords wait in the cache until
``take_passwords`` hands them out once.

Limits (the upload page and the administrator manual state them):
- ``MAX_FILE_BYTES`` (10 MB) and ``MAX_DATA_ROWS`` (20,000 rows): validation is a handful of bulk queries and set
  lookups, so these only bound memory and the size of the preview.
- ``MAX_PASSWORD_ROWS`` (1,000 rows that set a password): hashing is the real cost (PBKDF2 at Django's default
  work factor is ~0.3 s per password on one core), so this keeps an upload or an apply under about five minutes
  even on a busy single core, inside the proxy's 600 s timeout. Changes and deletions need no hashing.
"""

from __future__ import annotations

import os
import re
import secrets
import unicodedata
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError, RestrictedError
from django.db.models.functions import Lower
from django.http import Http404

from accounts.import_files import (  # noqa: F401 - some are re-exported for the views and tests
    COLUMNS,
    DEPT,
    EMAIL,
    GENERATE,
    GENERATED,
    GIVEN,
    GROUP_SEPARATORS,
    GROUPS,
    KEEP,
    MAX_DATA_ROWS,
    MAX_FILE_BYTES,
    MAX_PASSWORD_ROWS,
    NAME,
    NO_GROUPS,
    OPERATION,
    OPERATIONS,
    PASSWORD,
    PREVIEW_PAGE_SIZE,
    REQUIRED_COLUMNS,
    REQUIRED_FOR_ADD,
    ROLE,
    ROLE_LABELS,
    ROLES,
    STAFF,
    TOKEN_RE,
    TTL_SECONDS,
    ImportFileError,
    ParsedFile,
    check_file_size,
    parse_upload,
    template_csv,
    template_xlsx,
)
from accounts.models import User, normalize_email, normalize_staff_number
from accounts.services import _lock_seat_cap
from audit.services import record
from audit.spreadsheet import FORMULA_PREFIXES, csv_text


class ImportApplyError(ValidationError):
    """Applying failed and was rolled back; the message says why."""


class ImportOutdated(ImportApplyError):
    """Users changed since the preview: the re-checked preview (with its errors) replaced the stored one."""

    def __init__(self, preview: Preview):
        super().__init__("プレビューの後にほかの操作で利用者の情報が変わったため、反映しませんでした。"
                         "表示されたエラーを確認し、ファイルを直して取り込み直してください。")
        self.preview = preview


@dataclass
class RowError:
    column: str
    message: str


@dataclass
class ImportRow:
    number: int
    operation: str  # add / change / delete, or "" when 操作 is invalid
    operation_text: str
    staff_number: str
    full_name: str = ""
    email: str = ""
    department: str = ""
    role: str = ""  # "" on 変更: unchanged
    role_text: str = ""
    groups: list[str] | None = None  # None on 変更: unchanged
    password_mode: str = KEEP
    password: str = ""  # a given password only until it is hashed; never cached
    password_hash: str = ""
    user_id: int | None = None
    changes: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    def error(self, column: str, message: str) -> None:
        self.errors.append(RowError(column, message))

    @property
    def outcome(self) -> str:
        if self.operation == "add":
            return "追加します"
        if self.operation == "delete":
            return "削除します"
        return f"変更します（{'、'.join(self.changes)}）" if self.changes else "変更はありません"

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role_text)

    @property
    def groups_label(self) -> str:
        if self.groups == [] and self.operation == "change":
            return NO_GROUPS
        return "、".join(self.groups or [])


@dataclass
class Preview:
    file_name: str
    rows: list[ImportRow]
    file_errors: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    active_before: int = 0
    active_after: int = 0
    seat_cap: int | None = None
    token: str = ""

    @property
    def has_errors(self) -> bool:
        return bool(self.file_errors) or any(r.errors for r in self.rows)

    @property
    def counts(self) -> dict[str, int]:
        ok = [r for r in self.rows if not r.errors]
        return {
            "add": sum(r.operation == "add" for r in ok),
            "change": sum(r.operation == "change" and bool(r.changes) for r in ok),
            "unchanged": sum(r.operation == "change" and not r.changes for r in ok),
            "delete": sum(r.operation == "delete" for r in ok),
            "error": len(self.rows) - len(ok),
        }


@dataclass
class ImportResult:
    file_name: str
    added: int
    changed: int
    unchanged: int
    deleted: int
    generated_passwords: int
    event_id: int
    token: str


# --------------------------------------------------------------------------- checking the rows


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def _single_line(text: str) -> str:
    text = re.sub(r"[\r\n\t]+", " ", text or "").strip()
    # Akagi's own exports put an apostrophe before formula-like text; taking such a file back in restores the text.
    if text.startswith("'") and text[1:].startswith(FORMULA_PREFIXES):
        text = text[1:]
    return text


def _clean_row(number: int, cells: dict[str, str]) -> ImportRow:
    """Checks that need nothing but the row itself."""
    operation_text = _single_line(cells.get(OPERATION, ""))
    row = ImportRow(number=number, operation=OPERATIONS.get(_nfkc(operation_text), ""),
                    operation_text=operation_text, staff_number=normalize_staff_number(cells.get(STAFF, "")))
    if not operation_text:
        row.error(OPERATION, "操作を入力してください（「追加」「変更」「削除」のいずれか）。")
    elif not row.operation:
        row.error(OPERATION, f"「{operation_text}」は操作に使えません。"
                             "「追加」「変更」「削除」のいずれかを入力してください。")
    if not row.staff_number:
        row.error(STAFF, "職員番号を入力してください。")
    elif len(row.staff_number) > 32:
        row.error(STAFF, f"職員番号は32文字以内で入力してください（{len(row.staff_number)}文字）。")
    elif any(c.isspace() or not c.isprintable() for c in row.staff_number):
        row.error(STAFF, "職員番号に空白や改行を含めることはできません。")
    if row.operation == "delete":
        return row  # only the staff number matters
    adding = row.operation == "add"
    row.full_name, row.department = _single_line(cells.get(NAME, "")), _single_line(cells.get(DEPT, ""))
    if adding and not row.full_name:
        row.error(NAME, "氏名を入力してください。")
    for column, value in ((NAME, row.full_name), (DEPT, row.department)):
        if len(value) > 100:
            row.error(column, f"{column}は100文字以内で入力してください（{len(value)}文字）。")
    email_text = _single_line(cells.get(EMAIL, ""))
    row.email = normalize_email(email_text)
    if row.email:
        try:
            validate_email(row.email)
        except ValidationError:
            row.error(EMAIL, f"メールアドレス「{email_text}」の形式が正しくありません"
                             "（例: taro.yamada@city.example.lg.jp）。")
    elif adding:
        row.error(EMAIL, "メールアドレスを入力してください。")
    row.role_text = _single_line(cells.get(ROLE, ""))
    if row.role_text:
        row.role = ROLES.get(re.sub(r"\s+", "", _nfkc(row.role_text)), "")
        if not row.role:
            row.error(ROLE, f"「{row.role_text}」は権限に使えません。"
                            "「管理者」または「一般利用者」を入力してください。")
    elif adding:
        row.role = User.Role.GENERAL.value
    groups_text = _single_line(cells.get(GROUPS, ""))
    if groups_text:
        names = [g.strip() for g in GROUP_SEPARATORS.split(groups_text) if g.strip()]
        row.groups = [] if [_nfkc(g) for g in names] == [NO_GROUPS] else list(dict.fromkeys(names))
    elif adding:
        row.groups = []
    password = (cells.get(PASSWORD) or "").strip()
    if not password:
        row.password_mode = GENERATED if adding else KEEP
    elif _nfkc(password) == GENERATE:
        row.password_mode = GENERATED
    else:
        row.password_mode, row.password = GIVEN, password
    return row


def _check_duplicates_in_file(rows: list[ImportRow]) -> None:
    for attr, column in (("staff_number", STAFF), ("email", EMAIL)):
        seen: dict[str, list[ImportRow]] = defaultdict(list)
        for row in rows:
            value = getattr(row, attr)
            if value and (attr == "staff_number" or row.operation in ("add", "change")):
                seen[value].append(row)
        for value, same in seen.items():
            if len(same) > 1:
                where = "、".join(f"{r.number}行目" for r in same[:5]) + ("ほか" if len(same) > 5 else "")
                for row in same:
                    row.error(column, f"{column}「{value}」がこのファイルの複数の行（{where}）にあります。"
                                      "1人につき1行にしてください。")


def _chunks(items: list, size: int = 5_000):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _check_against_db(preview: Preview, *, actor: User, seat_cap: int | None) -> dict[str, dict]:
    """Checks that depend on the database, with a fixed number of bulk queries whatever the file's size.

    Run for the preview and again inside the apply transaction. Returns the existing users by staff number.
    """
    rows = preview.rows
    existing: dict[str, dict] = {}
    for chunk in _chunks(sorted({r.staff_number for r in rows if r.staff_number})):
        for user in User.objects.filter(staff_number__in=chunk).values(
                "id", "staff_number", "email", "full_name", "department", "role", "is_active"):
            existing[user["staff_number"]] = user
    current_groups: dict[int, list[str]] = defaultdict(list)
    through = User.groups.through
    for chunk in _chunks([u["id"] for u in existing.values()]):
        for user_id, name in through.objects.filter(user_id__in=chunk).values_list("user_id", "group__name"):
            current_groups[user_id].append(name)
    owners: dict[str, str] = {}
    for chunk in _chunks(sorted({r.email for r in rows if r.email and r.operation in ("add", "change")})):
        owners.update(User.objects.annotate(e=Lower("email")).filter(e__in=chunk).values_list("e", "staff_number"))
    known_groups = {_nfkc(name): name for name in Group.objects.values_list("name", flat=True)}
    # Only deletions free an e-mail address: swapping two users' addresses takes two imports.
    deleting = {r.staff_number for r in rows if r.operation == "delete"}

    for row in rows:
        user = existing.get(row.staff_number)
        row.user_id, row.changes = (user["id"] if user else None), []
        if row.operation == "add" and user:
            row.error(STAFF, f"職員番号「{row.staff_number}」はすでに登録されています。"
                             "登録済みの利用者を変更するときは、操作を「変更」にしてください。")
        elif row.operation in ("change", "delete") and row.staff_number and not user:
            row.error(STAFF, f"職員番号「{row.staff_number}」の利用者は登録されていません。"
                             "新しく登録するときは、操作を「追加」にしてください。")
        if row.operation == "delete" and row.staff_number == actor.staff_number:
            row.error(OPERATION, "自分自身は削除できません。ほかの管理者に依頼してください。")
        if row.operation == "delete":
            continue
        owner = owners.get(row.email)
        if owner and owner != row.staff_number and owner not in deleting:
            row.error(EMAIL, f"メールアドレス「{row.email}」はすでに職員番号「{owner}」の利用者が使っています。")
        if row.groups:
            unknown = [g for g in row.groups if _nfkc(g) not in known_groups]
            for name in unknown:
                row.error(GROUPS, f"グループ「{name}」は登録されていません。"
                                  "先に「グループと権限」の画面でグループを作成してから取り込んでください。")
            if not unknown:
                row.groups = list(dict.fromkeys(known_groups[_nfkc(g)] for g in row.groups))
        if row.operation == "change" and user:
            if row.staff_number == actor.staff_number and row.role == User.Role.GENERAL:
                row.error(ROLE, "自分自身の権限を「一般利用者」に変更することはできません。"
                                "ほかの管理者に依頼してください。")
            row.changes = [column for column, new, old in (
                (NAME, row.full_name, user["full_name"]), (EMAIL, row.email, normalize_email(user["email"])),
                (DEPT, row.department, user["department"]), (ROLE, row.role, user["role"])) if new and new != old]
            if row.groups is not None and sorted(row.groups) != sorted(current_groups[user["id"]]):
                row.changes.append(GROUPS)
            if row.password_mode != KEEP:
                row.changes.append(PASSWORD)

    added = sum(r.operation == "add" for r in rows)
    freed = sum(1 for r in rows if r.operation == "delete" and existing.get(r.staff_number, {}).get("is_active"))
    preview.active_before = User.objects.filter(is_active=True).count()
    preview.active_after = preview.active_before + added - freed
    preview.seat_cap = seat_cap
    if seat_cap is not None and added and preview.active_after > seat_cap:
        preview.file_errors.append(
            f"利用者数の上限（{seat_cap}名）を超えます。この取り込みを反映すると有効な利用者が"
            f"{preview.active_after}名になります（現在{preview.active_before}名、追加{added}名、削除による減少{freed}名）。"
            f"追加を{preview.active_after - seat_cap}名分減らすか、不要な利用者を削除の行に加えるか、"
            "県の運営担当に上限の引き上げを依頼してください。")
    return existing


def _hash_passwords(passwords: list[str]) -> list[str]:
    # PBKDF2 in OpenSSL releases the GIL, so a few threads shorten a big import on a multi-core server.
    if len(passwords) < 4:
        return [make_password(p) for p in passwords]
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        return list(pool.map(make_password, passwords))


def validate(parsed: ParsedFile, *, actor: User) -> Preview:
    """Every row checked, every problem named by row and column. Given passwords are hashed, never kept."""
    rows = [_clean_row(number, cells) for number, cells in parsed.rows]
    _check_duplicates_in_file(rows)
    preview = Preview(file_name=parsed.file_name, rows=rows)
    if parsed.ignored_columns:
        preview.notices.append(f"列「{'」「'.join(parsed.ignored_columns)}」は取り込みません。")
    existing = _check_against_db(preview, actor=actor, seat_cap=getattr(connection.tenant, "seat_cap", None))
    setting = [r for r in rows if r.operation in ("add", "change") and r.password_mode != KEEP]
    if len(setting) > MAX_PASSWORD_ROWS:
        preview.file_errors.append(
            f"パスワードを設定する行（追加の行と、初期パスワードを指定した変更の行）が{len(setting):,}行あります。"
            f"1回に取り込めるのは{MAX_PASSWORD_ROWS:,}行までです。ファイルを分けて取り込んでください。")
    else:
        for row in (r for r in setting if r.password_mode == GIVEN):
            user = existing.get(row.staff_number, {})
            candidate = User(staff_number=row.staff_number, email=row.email or user.get("email", ""),
                             full_name=row.full_name or user.get("full_name", ""))
            try:
                validate_password(row.password, candidate)
            except ValidationError as exc:
                row.error(PASSWORD, " ".join(exc.messages))
    if not preview.has_errors:
        given = [r for r in rows if r.password_mode == GIVEN]
        for row, hashed in zip(given, _hash_passwords([r.password for r in given]), strict=True):
            row.password_hash = hashed
    for row in rows:
        row.password = ""
    return preview


# --------------------------------------------------------------------------- keeping it between requests


@dataclass
class StoredImport:
    token: str
    preview: Preview | None  # before applying
    result: ImportResult | None  # after applying
    passwords_waiting: bool = False


def _key(token: str, part: str = "") -> str:
    return f"user-import:{token}{part}"


def _owned(data, actor: User) -> bool:
    # The cache key already carries the schema; the entry names it and the administrator as well.
    return bool(data) and data.get("schema") == connection.schema_name and data.get("actor_id") == actor.pk


def _preview_from(data: dict) -> Preview:
    rows = [ImportRow(**{**r, "errors": [RowError(**e) for e in r["errors"]]}) for r in data["rows"]]
    return Preview(**{**data, "rows": rows})


def save_preview(preview: Preview, *, actor: User) -> str:
    preview.token = preview.token or secrets.token_urlsafe(24)
    cache.set(_key(preview.token), {"schema": connection.schema_name, "actor_id": actor.pk, "state": "preview",
                                    "preview": asdict(preview)}, TTL_SECONDS)
    return preview.token


def load_import(token: str, *, actor: User) -> StoredImport:
    """This administrator's import in this municipality, or 404 (someone else's token looks like no token)."""
    data = cache.get(_key(token)) if TOKEN_RE.match(token or "") else None
    if not _owned(data, actor):
        raise Http404("この取り込みは見つかりません。")
    if data["state"] == "applied":
        return StoredImport(token=token, preview=None, result=ImportResult(**data["result"]),
                            passwords_waiting=_owned(cache.get(_key(token, ":passwords")), actor))
    return StoredImport(token=token, preview=_preview_from(data["preview"]), result=None)


# --------------------------------------------------------------------------- applying


def apply(preview: Preview, *, actor: User, request=None) -> ImportResult:
    """Apply a checked preview in one transaction, or nothing at all.

    Everything that depends on the database is checked again under the seat-cap lock, since other
    administrators may have changed users after the preview.
    """
    if preview.has_errors or any(r.password_mode == GIVEN and not r.password_hash for r in preview.rows):
        raise ImportApplyError("エラーのある行があるため反映できません。ファイルを直して取り込み直してください。")
    preview.token = preview.token or secrets.token_urlsafe(24)
    claim = _key(preview.token, ":applying")
    if not cache.add(claim, actor.pk, TTL_SECONDS):
        raise ImportApplyError("この取り込みは反映中か、すでに反映済みです。")
    try:
        return _apply(preview, actor=actor, request=request)
    except BaseException:
        cache.delete(claim)
        raise


def _apply(preview: Preview, *, actor: User, request) -> ImportResult:
    from tenants.services import generate_password

    fresh = _preview_from(asdict(preview))
    generated = {r.number: generate_password() for r in fresh.rows
                 if r.operation in ("add", "change") and r.password_mode == GENERATED}
    # Hashing is the slow part: done before the transaction so that the seat-cap lock is held briefly.
    hashes = dict(zip(generated, _hash_passwords(list(generated.values())), strict=True))
    try:
        with transaction.atomic():
            existing = _check_against_db(fresh, actor=actor, seat_cap=_lock_seat_cap())
            if fresh.has_errors:
                raise ImportOutdated(fresh)
            result, password_rows = _write(fresh, existing=existing, hashes=hashes, generated=generated,
                                           actor=actor, request=request)
            schema = connection.schema_name
            transaction.on_commit(lambda: _after_commit(fresh.token, actor=actor, schema=schema, result=result,
                                                        password_rows=password_rows))
    except ImportOutdated as exc:
        save_preview(exc.preview, actor=actor)
        raise
    except IntegrityError as exc:
        raise ImportApplyError("ほかの操作で同時に利用者が変更されたため、反映できませんでした。何も変更していません。"
                               "ファイルを取り込み直してください。") from exc
    except (ProtectedError, RestrictedError) as exc:
        raise ImportApplyError("関連するデータがあるため削除できない利用者が含まれています。何も変更していません。"
                               "該当の利用者を削除の行から外して取り込み直してください。") from exc
    return result


UPDATED_FIELDS = ("full_name", "email", "department", "role", "password", "must_change_password")


def _update_users(users: list[User]) -> None:
    """One ``UPDATE … FROM (VALUES …)`` per thousand users.

    ``bulk_update`` builds a CASE per field and row; on 20,000 users Django spent over 30 s just resolving those
    expressions. Identifiers come from the model's metadata and every value is a query parameter.
    """
    quote = connection.ops.quote_name
    columns = [quote(User._meta.get_field(name).column) for name in UPDATED_FIELDS]
    assignments = ", ".join(f"{c} = v.{c}" for c in columns)
    row_sql = "(%s::bigint, " + ", ".join(["%s"] * (len(columns) - 1)) + ", %s::boolean)"
    with connection.cursor() as cursor:
        for chunk in _chunks(users, 1_000):
            cursor.execute(
                f"UPDATE {quote(User._meta.db_table)} AS u SET {assignments} "  # noqa: S608 - see the docstring
                f"FROM (VALUES {', '.join([row_sql] * len(chunk))}) AS v(id, {', '.join(columns)}) WHERE u.id = v.id",
                [value for user in chunk for value in (user.pk, *(getattr(user, f) for f in UPDATED_FIELDS))],
            )


def _write(preview: Preview, *, existing: dict[str, dict], hashes: dict[int, str], generated: dict[int, str],
           actor: User, request) -> tuple[ImportResult, list[list[str]]]:
    by_operation: dict[str, list[ImportRow]] = defaultdict(list)
    for row in preview.rows:
        by_operation[row.operation].append(row)
    through = User.groups.through
    group_ids = dict(Group.objects.values_list("name", "id"))

    # Deletions first: they free the seats and e-mail addresses the rows below may take. Audit events keep the
    # deleted users' labels and usage records keep theirs (SET_NULL); conversations go with the user.
    deletions = by_operation["delete"]
    for chunk in _chunks([r.user_id for r in deletions]):
        User.objects.filter(pk__in=chunk).delete()

    changing = [r for r in by_operation["change"] if r.changes]
    users: dict[int, User] = {}
    for chunk in _chunks([r.user_id for r in changing]):
        users.update(User.objects.select_for_update().in_bulk(chunk))
    for row in changing:
        user = users[row.user_id]
        user.full_name = row.full_name or user.full_name
        user.email = row.email or user.email
        user.department = row.department or user.department
        user.role = row.role or user.role
        if row.password_mode != KEEP:
            user.password, user.must_change_password = hashes.get(row.number) or row.password_hash, True
    _update_users(list(users.values()))
    regrouped = [r for r in changing if GROUPS in r.changes]
    for chunk in _chunks([r.user_id for r in regrouped]):
        through.objects.filter(user_id__in=chunk).delete()
    through.objects.bulk_create([through(user_id=r.user_id, group_id=group_ids[g]) for r in regrouped
                                 for g in r.groups], batch_size=2_000)

    additions = by_operation["add"]
    new_users = User.objects.bulk_create([
        User(staff_number=r.staff_number, email=r.email, full_name=r.full_name, department=r.department,
             role=r.role, is_active=True, must_change_password=True,
             password=hashes.get(r.number) or r.password_hash) for r in additions], batch_size=1_000)
    through.objects.bulk_create([through(user_id=u.pk, group_id=group_ids[g]) for r, u in
                                 zip(additions, new_users, strict=True) for g in r.groups], batch_size=2_000)

    unchanged = [r for r in by_operation["change"] if not r.changes]
    event = record(
        action="users.import", actor=actor, target=f"file:{preview.file_name}", request=request,
        detail={
            "file_name": preview.file_name, "added": len(additions), "changed": len(changing),
            "deleted": len(deletions), "unchanged": len(unchanged), "generated_passwords": len(generated),
            "added_staff_numbers": [r.staff_number for r in additions],
            "changed_columns": {r.staff_number: r.changes for r in changing},
            "deleted_users": [{"staff_number": r.staff_number, "full_name": existing[r.staff_number]["full_name"],
                               "email": existing[r.staff_number]["email"]} for r in deletions],
        },
    )
    final = {u.staff_number: u for u in [*users.values(), *new_users]}
    password_rows = [[r.staff_number, final[r.staff_number].full_name, final[r.staff_number].email,
                      generated[r.number]] for r in preview.rows if r.number in generated]
    result = ImportResult(file_name=preview.file_name, added=len(additions), changed=len(changing),
                          unchanged=len(unchanged), deleted=len(deletions), generated_passwords=len(generated),
                          event_id=event.pk, token=preview.token)
    return result, password_rows


def _after_commit(token: str, *, actor: User, schema: str, result: ImportResult,
                  password_rows: list[list[str]]) -> None:
    owner = {"schema": schema, "actor_id": actor.pk}
    if password_rows:
        cache.set(_key(token, ":passwords"), {**owner, "rows": password_rows, "file_name": result.file_name,
                                          "event_id": result.event_id}, TTL_SECONDS)
    cache.set(_key(token), {**owner, "state": "applied", "result": asdict(result)}, TTL_SECONDS)


def take_passwords(token: str, *, actor: User, request=None) -> str | None:
    """The generated passwords as CSV, handed out once and audited; None when taken already or expired."""
    load_import(token, actor=actor)
    key = _key(token, ":passwords")
    data = cache.get(key)
    # delete() says whether the key was still there, so of two simultaneous downloads only one gets the file.
    if not _owned(data, actor) or not cache.delete(key):
        return None
    record(action="users.import.passwords", actor=actor, target=f"file:{data['file_name']}", request=request,
           detail={"count": len(data["rows"]), "import_event_id": data["event_id"],
                   "staff_numbers": [row[0] for row in data["rows"]]})
    return csv_text([STAFF, NAME, EMAIL, PASSWORD], data["rows"])
