"""研修環境 in the operator console: the training municipalities and their 初期化 button (with a confirmation)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render

from tenants.access import operator_required
from tenants.jobs import start_job
from tenants.models import PUBLIC_SCHEMA, Tenant, TenantJob
from tenants.services import site_url
from tenants.tasks.training import reset_training
from tenants.training_env import ADMIN_STAFF_NUMBER, DEFAULT_TRAINEES, MAX_TRAINEES, trainee_number


def _training_tenants():
    return Tenant.objects.filter(is_training=True).exclude(schema_name=PUBLIC_SCHEMA).order_by("slug")


@operator_required
def training_list(request):
    rows = []
    for tenant in _training_tenants():
        last = TenantJob.objects.filter(kind=TenantJob.Kind.RESET_TRAINING, tenant=tenant).first()
        rows.append({"tenant": tenant, "url": site_url(tenant.slug), "last": last})
    return render(request, "tenants/training_env.html", {"rows": rows})


@operator_required
def training_reset(request, slug: str):
    tenant = get_object_or_404(_training_tenants(), slug=slug)
    trainees = DEFAULT_TRAINEES
    error = ""
    if request.method == "POST":
        raw = request.POST.get("trainees", "").strip()
        trainees = int(raw) if raw.isdigit() else 0
        if not 1 <= trainees <= MAX_TRAINEES:
            error = f"受講者の人数は1〜{MAX_TRAINEES}名の数字で指定してください。"
        elif tenant.seat_cap is not None and trainees + 1 > tenant.seat_cap:
            error = (f"受講者{trainees}名と研修用の管理者1名で利用者数の上限（{tenant.seat_cap}名）を超えます。"
                     f"{tenant.seat_cap - 1}名以下にしてください。")
        elif request.POST.get("confirm") != "1":
            error = "「すべてのデータを削除して初期状態に戻すことを確認しました」にチェックを入れてください。"
        else:
            job = start_job(kind=TenantJob.Kind.RESET_TRAINING, actor=request.user, task=reset_training,
                            tenant=tenant, params={"trainees": trainees})
            messages.success(request, f"研修環境「{tenant.name}」の初期化を開始しました。")
            return redirect("jobs:status", job.pk)
    return render(request, "tenants/training_env_reset.html", {
        "tenant": tenant, "url": site_url(tenant.slug), "trainees": trainees, "max_trainees": MAX_TRAINEES,
        "error": error, "admin_staff_number": ADMIN_STAFF_NUMBER, "first_trainee": trainee_number(1),
    })
