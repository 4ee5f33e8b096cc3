import sys

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from tenants.operators import create_operator


def _messages(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [message for messages in exc.message_dict.values() for message in messages]
    return exc.messages


class Command(BaseCommand):
    help = (
        "県の運営担当者（運営コンソールにログインできるアカウント）を追加します。"
        "初期パスワードは自動で作成して一度だけ表示し、本人は最初のログインで変更を求められます。"
    )
    stealth_options = ("stdin",)  # call_command(..., stdin=io.StringIO(...)) in tests, like createsuperuser

    def add_arguments(self, parser):
        parser.add_argument("--staff-number", required=True, help="職員番号（例: PREF-0002）。ログインに使います。")
        parser.add_argument("--email", required=True, help="メールアドレス（例: taro.yamada@pref.example.lg.jp）")
        parser.add_argument("--name", required=True, help="氏名（例: \"県 太郎\"）")
        parser.add_argument(
            "--password-stdin", action="store_true",
            help="初期パスワードを標準入力の1行目から読みます（コマンド行や履歴に残さないため）。"
                 "省略時は自動で作成して表示します。どちらの場合も最初のログインで変更を求めます。",
        )

    def handle(self, *args, **options):
        # The command's connection starts in the public schema; say so plainly if someone changed that.
        if connection.schema_name != "public":
            raise CommandError("運営者アカウントは県（運営）の環境（public スキーマ）でのみ作成できます。")
        password = None
        if options["password_stdin"]:
            password = (options.get("stdin") or sys.stdin).readline().rstrip("\r\n")
            if not password:
                raise CommandError("標準入力からパスワードを読めませんでした。1行目にパスワードを入力してください。")
        try:
            operator, generated = create_operator(
                staff_number=options["staff_number"], email=options["email"], full_name=options["name"],
                password=password, actor=None,
            )
        except ValidationError as exc:
            raise CommandError(" ".join(_messages(exc))) from exc
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"運営者「{operator.full_name}」（{operator.staff_number} / {operator.email}）を追加しました。"
        )
        if generated is not None:
            self.stdout.write(f"  初期パスワード（この一度だけ表示します）: {generated}")
        self.stdout.write("  最初のログインで自分のパスワードへの変更を求めます。")
