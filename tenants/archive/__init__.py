"""環境の引き継ぎ: a municipality's whole environment written to one archive and taken in again elsewhere.

``export_tenant`` and ``import_archive`` are the services (commands, console jobs and tests call them).
``manifest`` is the format; ``schema`` what is read from and written to the database; ``export`` writes an
archive; ``verify`` (pass 1) and ``loader`` (pass 2) are the two halves of ``importer``; ``storage`` is where
archive files live on the server; ``jobs`` the console's background jobs; ``forms`` the console's forms.
"""

from tenants.archive.export import export_tenant
from tenants.archive.importer import import_archive
from tenants.archive.manifest import FORMAT_VERSION, ArchiveError
from tenants.archive.verify import verify_archive

__all__ = ["FORMAT_VERSION", "ArchiveError", "export_tenant", "import_archive", "verify_archive"]
