"""Web processes hold no state of their own: sessions in the database, uploaded files
through Django's storage API, which can be S3-compatible object storage.

No S3 server runs here, so the S3 tests stop at the storage Django builds from the
settings (its class, bucket, endpoint and options); nothing is sent to it.
"""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest
from django.contrib.sessions.models import Session
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import FileSystemStorage, default_storage, storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from storages.backends.s3 import S3Storage
from storages.backends.s3boto3 import S3Boto3Storage

from tests.imports.conftest import csv_bytes

SETTINGS = Path(__file__).resolve().parents[2] / "config" / "settings.py"
S3_NAMES = (
    "STORAGE_BACKEND",
    "AWS_STORAGE_BUCKET_NAME",
    "AWS_S3_ENDPOINT_URL",
    "AWS_S3_REGION_NAME",
    "AWS_S3_ADDRESSING_STYLE",
    "AWS_LOCATION",
    "MEDIA_ROOT",
)


def settings_with(monkeypatch, **environ) -> dict:
    for name in S3_NAMES:
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS))


def test_uploads_go_to_a_local_folder_by_default(monkeypatch, tmp_path):
    built = settings_with(monkeypatch, MEDIA_ROOT=str(tmp_path / "media"))
    assert built["STORAGES"]["default"] == {
        "BACKEND": "django.core.files.storage.FileSystemStorage"
    }
    assert built["MEDIA_ROOT"] == tmp_path / "media"


def test_s3_compatible_object_storage_is_chosen_with_its_options(monkeypatch, settings):
    built = settings_with(
        monkeypatch,
        STORAGE_BACKEND="s3",
        AWS_STORAGE_BUCKET_NAME="council-monitor",
        AWS_S3_ENDPOINT_URL="https://objects.example.org",
        AWS_S3_REGION_NAME="eu-west-2",
        AWS_S3_ADDRESSING_STYLE="path",
        AWS_LOCATION="sunderland",
    )
    settings.STORAGES = built["STORAGES"]
    storage = storages["default"]
    assert isinstance(storage, S3Boto3Storage) and isinstance(storage, S3Storage)
    assert default_storage.bucket_name == "council-monitor"  # what uploads go through
    assert isinstance(default_storage._wrapped, S3Storage)
    assert (storage.bucket_name, storage.endpoint_url, storage.region_name) == (
        "council-monitor",
        "https://objects.example.org",
        "eu-west-2",
    )
    assert (storage.addressing_style, storage.location) == ("path", "sunderland")
    assert storage.default_acl is None  # private: the bucket's policy decides
    assert storage.querystring_auth is True  # links are signed and expire
    assert storage.file_overwrite is False  # an upload never replaces another
    # Credentials are never in the settings: boto3 reads them from the environment.
    assert not any("secret" in key or "access_key" in key for key in built["STORAGES"]["default"]["OPTIONS"])


def test_a_bucket_name_alone_chooses_s3(monkeypatch):
    built = settings_with(monkeypatch, AWS_STORAGE_BUCKET_NAME="council-monitor")
    assert built["STORAGES"]["default"]["BACKEND"] == "storages.backends.s3.S3Storage"
    assert built["STORAGES"]["default"]["OPTIONS"]["bucket_name"] == "council-monitor"
    assert "endpoint_url" not in built["STORAGES"]["default"]["OPTIONS"]  # AWS itself


def test_s3_without_a_bucket_is_refused_by_name(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="STORAGE_BACKEND=s3 needs AWS_STORAGE_BUCKET_NAME"):
        settings_with(monkeypatch, STORAGE_BACKEND="s3")


def test_an_unknown_storage_backend_is_refused_by_name(monkeypatch):
    with pytest.raises(
        ImproperlyConfigured, match="STORAGE_BACKEND must be filesystem or s3, not 'ftp'"
    ):
        settings_with(monkeypatch, STORAGE_BACKEND="ftp")


def test_sessions_are_rows_in_the_database(settings, client, reader):
    assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.db"
    client.force_login(reader)
    session = Session.objects.get(session_key=client.cookies[settings.SESSION_COOKIE_NAME].value)
    assert session.get_decoded()["_auth_user_id"] == str(reader.pk)


@pytest.fixture
def staff(client, db):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(
        "ops-admin", password="pw", is_staff=True, is_superuser=True
    )
    client.force_login(user)
    return user


def test_an_admin_import_keeps_its_file_in_the_default_storage(settings, tmp_path, client, staff):
    """Between the preview and the confirmation the file is in the default storage (a
    local folder here, S3 in a deployment of several hosts), never one host's /tmp."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    assert default_storage.location == str(tmp_path / "media")
    assert isinstance(default_storage._wrapped, FileSystemStorage)
    data = csv_bytes(
        ["slug", "name", "commissioner", "provider", "start"],
        [["north", "Northfield services", "Northfield Council", "Northfield Trust", "2018-04-01"]],
    )
    preview = client.post(
        reverse("admin:contracts_contract_import"),
        {"import_file": SimpleUploadedFile("contracts.csv", data), "format": "0", "resource": "0"},
    )
    assert preview.status_code == 200 and "confirm_form" in preview.context, preview.content[:2000]
    confirm = preview.context["confirm_form"].initial
    kept = tmp_path / "media" / "django-import-export" / confirm["import_file_name"]
    assert kept.read_bytes() == data
    done = client.post(reverse("admin:contracts_contract_process_import"), confirm)
    assert done.status_code == 302
    assert not kept.exists()  # removed once imported
