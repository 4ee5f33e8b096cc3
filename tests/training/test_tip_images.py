"""Images for tips: checked by their bytes, at most 5 MB, stored per municipality, served only after login."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client

from audit.models import AuditEvent
from tests.conftest import HOST_A
from tests.training.helpers import as_admin, as_staff
from training.models import TipImage

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_an_admin_uploads_a_png_and_logged_in_users_can_view_it(client_a, tenant_a, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    as_admin(client_a)
    response = client_a.post("/learn/images/upload/", {"image": SimpleUploadedFile("a.png", PNG, "image/png")})
    assert response.status_code == 302
    connection.set_tenant(tenant_a)
    image = TipImage.objects.get()
    assert image.file_path.startswith(f"training/{tenant_a.schema_name}/")
    assert AuditEvent.objects.filter(action="training.image_upload", target=f"image:{image.pk}").exists()
    staff = as_staff(Client(HTTP_HOST=HOST_A))
    response = staff.get(f"/learn/images/{image.pk}/")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == PNG
    anonymous = Client(HTTP_HOST=HOST_A).get(f"/learn/images/{image.pk}/")
    assert anonymous.status_code == 302


def test_a_file_that_is_not_an_image_is_refused_whatever_its_name(client_a, tenant_a, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    as_admin(client_a)
    fake = SimpleUploadedFile("a.png", b"<svg onload=alert(1)></svg>", "image/png")
    response = client_a.post("/learn/images/upload/", {"image": fake}, follow=True)
    assert "PNG・JPEG・GIF・WebP" in response.content.decode()
    big = SimpleUploadedFile("b.png", PNG + b"\x00" * (5 * 1024 * 1024), "image/png")
    client_a.post("/learn/images/upload/", {"image": big})
    connection.set_tenant(tenant_a)
    assert not TipImage.objects.exists()


def test_a_general_user_cannot_upload_images(client_a, tenant_a, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    as_staff(client_a)
    response = client_a.post("/learn/images/upload/", {"image": SimpleUploadedFile("a.png", PNG, "image/png")})
    assert response.status_code == 403
    connection.set_tenant(tenant_a)
    assert not TipImage.objects.exists()
