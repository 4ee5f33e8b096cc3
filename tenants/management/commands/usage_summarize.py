"""Backfill or refresh the daily usage summary the operator's dashboard reads."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from tenants import summary
from tenants.models import PUBLIC_SCHEMA, Tenant


class Command(BaseCommand):
    help = (
        "利用状況ダッシュボードの日次集計を作り直します。各利用団体の記録から再計算するため、"
        "同じ日を何度実行しても二重には数えません。"
    )

    def add_arguments(self, parser):
        when = parser.add_mutually_exclusive_group()
        when.add_argument("--month", help="対象月（例: 2026-11）。その月の今日までの各日を集計します。")
        when.add_argument("--day", action="append", help="対象日（例: 2026-11-05）。複数指定できます。")
        parser.add_argument("--tenant", help="この識別子の利用団体だけを集計します（省略時はすべて）。")

    def handle(self, *args, **options):
        today = summary.tokyo_today()
        try:
            if options["month"]:
                year, month = (int(part) for part in options["month"].split("-"))
                days = summary.days_of_month(dt.date(year, month, 1), until=today)
            elif options["day"]:
                days = [dt.date.fromisoformat(value) for value in options["day"]]
            else:
                days = [today - dt.timedelta(days=1), today]
        except ValueError as exc:
            raise CommandError("日付は --month 2026-11 または --day 2026-11-05 の形で指定してください。") from exc
        if any(day > today for day in days):
            raise CommandError("未来の日は集計できません。")
        if options["tenant"]:
            tenant = Tenant.objects.exclude(schema_name=PUBLIC_SCHEMA).filter(slug=options["tenant"]).first()
            if tenant is None:
                raise CommandError(f"利用団体「{options['tenant']}」は登録されていません。")
        else:
            tenant = None
        for day in days:
            rows = [summary.summarize_day(tenant, day)] if tenant else summary.summarize_all(day)
            chars = sum(row.chars for row in rows)
            self.stdout.write(f"{day.isoformat()}: {len(rows)}団体を集計しました（文字数 {chars:,}）。")
