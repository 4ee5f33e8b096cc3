# Placeholder while this screen is being built; replaced by its real views.
from django.http import Http404


def _missing(*args, **kwargs):
    raise Http404


import_upload = import_template = import_preview = import_passwords = _missing
prompt_logs = operation_logs = export_start = export_status = export_download = _missing
