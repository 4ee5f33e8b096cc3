"""研修環境: put a training municipality back to a fresh demo state before each 研修会 (spec 12(1)).

The reset drops the municipality's schema and creates it again through django-tenants, which runs every tenant
migration (the starter template library is a data migration), so the result is exactly a new municipality and
no table can be forgotten when an app adds one. It then seeds what a 研修会 needs: a training administrator,
trainees with one shared password, sample tips, a board thread and a sample knowledge base whose document goes
through the normal ingestion path. The ``Tenant`` row (id, slug, domain, plan) stays; the month's character
counter is set back to zero; the reset is recorded in the operator's trail.

Everything in the database happens in one transaction: a failure leaves the municipality as it was. Its files
(documents, tip images, audit exports) are moved aside first, removed after the commit and put back on failure.
"""

from __future__ import annotations

import logging
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from audit.services import record
from tenants.crossing import in_tenant
from tenants.models import PUBLIC_SCHEMA, MonthlyUsage, Tenant
from tenants.services import generate_password, site_url

log = logging.getLogger(__name__)

DEFAULT_TRAINEES = 10
MAX_TRAINEES = 50
ADMIN_STAFF_NUMBER = "KENSHU-ADMIN"
MEDIA_FOLDERS = ("rag", "training", "exports")  # each holds one folder per schema
SAMPLE_COLLECTION = "研修用サンプル"

# What the audit detail counts before the reset (app label, model): the figures an operator may be asked about.
COUNTED = {
    "users": ("accounts", "User"),
    "conversations": ("chat", "Conversation"),
    "messages": ("chat", "Message"),
    "usage_records": ("usage", "UsageRecord"),
    "collections": ("rag", "Collection"),
    "documents": ("rag", "Document"),
    "templates": ("prompts", "PromptTemplate"),
    "tips": ("training", "Tip"),
    "threads": ("training", "Thread"),
    "audit_events": ("audit", "AuditEvent"),
}

Report = Callable[[int, str], None]


def trainee_number(n: int) -> str:
    return f"KENSHU-{n:02d}"


@dataclass
class TrainingResetResult:
    tenant: Tenant
    admin_staff_number: str
    admin_password: str
    trainee_numbers: list[str]
    trainee_password: str
    removed: dict[str, int] = field(default_factory=dict)
    sample_document_id: int | None = None

    @property
    def url(self) -> str:
        return site_url(self.tenant.slug)

    def accounts_text(self) -> str:
        """The accounts and passwords for the instructor's handout (shown once, never stored)."""
        trainees = (f"{self.trainee_numbers[0]}〜{self.trainee_numbers[-1]}" if len(self.trainee_numbers) > 1
                    else self.trainee_numbers[0])
        return (f"研修用の管理者 {self.admin_staff_number}: {self.admin_password} ／ "
                f"受講者 {trainees}（{len(self.trainee_numbers)}名共通）: {self.trainee_password}")


def _noop(progress: int, step: str = "") -> None:
    pass


def _check(tenant: Tenant, trainees: int, passwords: dict[str, str | None]) -> None:
    if tenant.schema_name == PUBLIC_SCHEMA or not tenant.is_training:
        raise ValidationError(
            f"「{tenant.name}」は研修環境ではないため初期化できません。初期化できるのは、プランで「研修環境」に"
            "指定した利用団体だけです（業務で使う利用団体のデータを守るためです）。"
        )
    if not 1 <= trainees <= MAX_TRAINEES:
        raise ValidationError(f"受講者の人数は1〜{MAX_TRAINEES}名で指定してください。")
    if tenant.seat_cap is not None and trainees + 1 > tenant.seat_cap:
        raise ValidationError(
            f"受講者{trainees}名と研修用の管理者1名で{trainees + 1}名になり、利用者数の上限（{tenant.seat_cap}名）を"
            "超えます。人数を減らすか、プランの上限を引き上げてから実行してください。"
        )
    user_model = apps.get_model("accounts", "User")
    for who, password in passwords.items():
        if password is None:
            continue
        try:
            validate_password(password, user_model(staff_number=who, email="", full_name=""))
        except ValidationError as exc:
            raise ValidationError([f"{who} のパスワード: {m}" for m in exc.messages]) from exc


def _count(tenant: Tenant) -> dict[str, int]:
    counts = {}
    with in_tenant(tenant):
        for name, (app_label, model_name) in COUNTED.items():
            counts[name] = apps.get_model(app_label, model_name).objects.count()
    return counts


def _move_files_aside(schema: str) -> list[tuple[Path, Path]]:
    moved = []
    token = uuid.uuid4().hex[:8]
    for folder in MEDIA_FOLDERS:
        path = Path(settings.MEDIA_ROOT) / folder / schema
        if path.exists():
            aside = path.with_name(f".{schema}.reset-{token}")
            path.rename(aside)
            moved.append((path, aside))
    return moved


def _restore_files(moved: list[tuple[Path, Path]]) -> None:
    for path, aside in moved:
        if path.exists():
            shutil.rmtree(path, ignore_errors=True)  # what the failed reset had started to write
        aside.rename(path)


def _recreate_schema(tenant: Tenant) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA IF EXISTS {connection.ops.quote_name(tenant.schema_name)} CASCADE")
    # The same path as a new municipality: CREATE SCHEMA and every tenant migration, starter templates included.
    tenant.create_schema(check_if_exists=False, verbosity=0)
    connection.set_schema_to_public()
    # Content types were created afresh in the new schema; ids cached by this process may no longer match.
    apps.get_model("contenttypes", "ContentType").objects.clear_cache()


def _reset_month_counter(tenant: Tenant) -> None:
    from usage.quota import current_month

    MonthlyUsage.objects.filter(tenant=tenant, month=current_month()).update(used_chars=0, cost_yen=0, prompts=0)


def reset_training_tenant(
    *,
    tenant: Tenant,
    actor=None,
    actor_label: str = "",
    report: Report | None = None,
    trainees: int = DEFAULT_TRAINEES,
    trainee_password: str | None = None,
    admin_password: str | None = None,
) -> TrainingResetResult:
    """Wipe a training municipality and seed a fresh demo state; refused unless the tenant is 研修環境.

    Passwords not given are generated. They are returned (for the handout) and never stored in clear.
    """
    report = report or _noop
    connection.set_schema_to_public()
    tenant = Tenant.objects.get(pk=tenant.pk)  # the flag as it is now, not as the caller last saw it
    _check(tenant, trainees, {ADMIN_STAFF_NUMBER: admin_password, trainee_number(1): trainee_password})
    admin_password = admin_password or generate_password()
    trainee_password = trainee_password or generate_password()

    report(5, "現在の内容を数えています")
    removed = _count(tenant)
    moved = _move_files_aside(tenant.schema_name)
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_xact_lock(hashtext(%s))",
                               [f"training-reset:{tenant.schema_name}"])
                if not cursor.fetchone()[0]:
                    raise ValidationError(
                        "この研修環境は別の初期化が実行中です。終わるのを待ってから結果を確認してください。"
                    )
            report(15, "データを削除しています")
            _recreate_schema(tenant)
            report(45, "利用状況の集計を0に戻しています")
            _reset_month_counter(tenant)
            report(50, "研修用のアカウントと教材を作成しています")
            with in_tenant(tenant):
                document_id = _seed(tenant, trainees=trainees, admin_password=admin_password,
                                    trainee_password=trainee_password, report=report)
            report(95, "記録しています")
            result = TrainingResetResult(
                tenant=tenant, admin_staff_number=ADMIN_STAFF_NUMBER, admin_password=admin_password,
                trainee_numbers=[trainee_number(n) for n in range(1, trainees + 1)],
                trainee_password=trainee_password, removed=removed, sample_document_id=document_id,
            )
            record(
                action="tenant.training_reset",
                actor=actor,
                actor_label=actor_label or ("" if actor else "system"),
                target=f"tenant:{tenant.slug}",
                detail={"removed": removed, "admin": ADMIN_STAFF_NUMBER, "trainees": result.trainee_numbers},
            )
    except BaseException:
        connection.set_schema_to_public()
        _restore_files(moved)
        raise
    for _, aside in moved:
        shutil.rmtree(aside, ignore_errors=True)
    connection.set_schema_to_public()
    return result


def run_reset_job(job, report: Report) -> dict:
    """The work of a TenantJob of kind reset_training (see tenants.jobs.run_job)."""
    from tenants.jobs import JobFailed, put_secret

    if job.tenant is None:
        raise JobFailed("対象の利用団体が見つかりません。一覧から選び直してください。")
    result = reset_training_tenant(
        tenant=job.tenant, actor_label=job.created_by_label, report=report,
        trainees=int(job.params.get("trainees") or DEFAULT_TRAINEES),
    )
    put_secret(job.pk, result.accounts_text())
    return {
        "url": result.url,
        "admin": result.admin_staff_number,
        "trainees": result.trainee_numbers,
        "removed": result.removed,
    }


# --------------------------------------------------------------------------- the fresh demo state


def _seed(tenant: Tenant, *, trainees: int, admin_password: str, trainee_password: str, report: Report) -> int:
    from accounts.models import User
    from accounts.services import create_user
    from rag.models import Collection
    from rag.services import add_file, save_collection
    from training.services import open_thread, save_tip

    domain = f"{tenant.slug}.example.lg.jp"
    admin = create_user(
        staff_number=ADMIN_STAFF_NUMBER, email=f"kenshu-admin@{domain}", password=admin_password,
        full_name="研修 講師", department="研修用", role=User.Role.ADMIN,
    )
    for n in range(1, trainees + 1):
        create_user(
            staff_number=trainee_number(n), email=f"kenshu-{n:02d}@{domain}", password=trainee_password,
            full_name=f"研修 受講者{n:02d}", department="研修用", role=User.Role.GENERAL, actor=admin,
        )
        report(50 + int(30 * n / trainees), f"研修用のアカウントを作成しています（{n}/{trainees}）")

    for title, body in SAMPLE_TIPS:
        save_tip(actor=admin, title=title, body=body, published=True)
    open_thread(actor=admin, title="研修会の質問はこちらへ",
                body="研修中にわからないことがあれば、このスレッドに返信してください。講師が順にお答えします。")

    report(85, "サンプルのナレッジを作成しています")
    collection = save_collection(
        actor=admin, name=SAMPLE_COLLECTION, access=Collection.Access.ALL,
        description="研修で使う架空の資料です。チャットでこのナレッジを選んで質問してみましょう。",
    )
    # Queued for the worker after commit, like any upload: the normal ingestion path.
    document, _ = add_file(actor=admin, collection=collection, filename="ごみの出し方（研修用サンプル）.md",
                           data=sample_document(tenant).encode("utf-8"))
    return document.pk


SAMPLE_TIPS = [
    ("個人情報は入力しない",
     "氏名・住所・電話番号・マイナンバーなど、個人を特定できる情報は入力しないでください。\n\n"
     "- 入力すると、送信前に確認画面が表示されることがあります。\n"
     "- 文書の例を作るときは「山田太郎」ではなく「〇〇」のように伏せ字にしましょう。"),
    ("依頼は具体的に書く",
     "良い回答を得るコツは、**目的・相手・形式**をはっきり書くことです。\n\n"
     "| 悪い例 | 良い例 |\n| --- | --- |\n"
     "| お知らせを書いて | 市民向けに、ごみ収集日の変更を知らせる200字のお知らせ文を書いて |"),
    ("テンプレートを使ってみる",
     "「テンプレート」には、あいさつ文や要約などのよく使う依頼が用意されています。"
     "項目を埋めるだけで依頼文ができあがります。"),
]


def sample_document(tenant: Tenant) -> str:
    """A small fictional municipal document, written at reset so that its date is the 研修会's."""
    today = timezone.localdate()
    return f"""# 家庭ごみの出し方（研修用サンプル）

この文書は、{tenant.name}の研修環境を初期化した際（{today.year}年{today.month}月{today.day}日）に作成した
**架空の資料**です。実在の自治体の規則ではありません。

## 燃やすごみ

- 収集日: 毎週月曜日と木曜日
- 出す時間: 収集日の朝8時30分まで
- 指定のごみ袋（黄色）に入れて、地区のごみ集積所に出してください。
- 生ごみは水気をよく切ってから出してください。

## 資源ごみ

| 品目 | 収集日 | 出し方 |
| --- | --- | --- |
| 缶・びん | 第1・第3水曜日 | 中を軽くすすいで、コンテナに入れる |
| ペットボトル | 第2・第4水曜日 | キャップとラベルを外し、つぶして透明の袋に入れる |
| 古紙 | 毎月最終金曜日 | 新聞・雑誌・段ボールに分けて、ひもで十字にしばる |

## 粗大ごみ

- 一辺が50センチメートルを超えるものは粗大ごみです。
- 事前に電話またはインターネットで申し込みが必要です。収集は申し込みから1週間程度かかります。
- 手数料は1点につき500円です。粗大ごみ処理券を購入して貼り付けてください。

## 出せないもの

- 家電リサイクル法の対象品（テレビ、エアコン、冷蔵庫、洗濯機）は、購入した販売店に引き取りを依頼してください。
- 消火器、タイヤ、バッテリーは専門の回収業者にご相談ください。

## 問い合わせ

環境課 ごみ減量係（研修用の架空の部署です）　電話: 000-0000-0000（架空）
"""
