"""Attachments over real HTTP (DESIGN.md §11, §5): announce, upload by multipart POST to the URL
the API gave (served by the local stack on the same port, the policy checked as S3 does, the
bucket's event delivered to the check), see it available, download it; an executable sent as
a PNG is rejected; a file larger than announced is refused by the upload itself."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.e2e.support import Api, Reply, create_ticket
from tests.support.multipart import form_data

pytestmark = pytest.mark.e2e

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 100


def _same_port(api: Api, url: str) -> Api:
    parts = urlsplit(url)
    assert (parts.hostname, parts.port) == (api.host, api.port), url  # served by make run
    assert parts.path.startswith("/_local/s3/"), url
    return Api(f"{parts.scheme}://{parts.netloc}")


def upload(api: Api, form: dict[str, Any], data: bytes) -> Reply:
    """The browser's POST: the form's fields, then `file`, as multipart/form-data."""
    content_type, body = form_data(form["fields"], data)
    target = _same_port(api, form["url"])
    path = urlsplit(form["url"]).path
    headers = {"Content-Type": content_type}
    return target.request("POST", path, body=body, headers=headers)


def announce(api: Api, token: str, number: int, **body: Any) -> Reply:
    return api.post(f"/tickets/{number}/attachments", token, body)


def test_upload_check_and_download_over_http(api: Api, tokens: dict[str, str]) -> None:
    client = tokens["CLIENT_ACME"]
    number = create_ticket(api, client, title="Capture d'écran")["number"]
    announced = announce(
        api, client, number, filename="écran 1.png", content_type="image/png", size=len(PNG)
    )
    assert announced.status == 201, announced.body
    created = announced.json()
    stored = upload(api, created["upload"], PNG)
    assert stored.status == 204, stored.body

    shown = api.get(f"/tickets/{number}/attachments/{created['id']}", client).json()
    assert (shown["status"], shown["filename"], shown["content_type"]) == (
        "available",
        "écran 1.png",
        "image/png",
    )
    listed = api.get(f"/tickets/{number}/attachments", client).json()["items"]
    assert [a["id"] for a in listed] == [created["id"]]
    assert api.get(f"/tickets/{number}", client).json()["attachments_count"] == 1

    link = shown["url"]
    downloaded = _same_port(api, link).get(f"{urlsplit(link).path}?{urlsplit(link).query}")
    assert downloaded.status == 200
    assert downloaded.body == PNG
    assert downloaded.content_type == "image/png"
    assert downloaded.headers["content-disposition"] == (
        "attachment; filename=\"ecran 1.png\"; filename*=UTF-8''%C3%A9cran%201.png"
    )


def test_an_executable_sent_as_a_png_is_rejected(api: Api, tokens: dict[str, str]) -> None:
    client = tokens["CLIENT_ACME"]
    number = create_ticket(api, client, title="Pièce douteuse")["number"]
    created = announce(
        api, client, number, filename="photo.png", content_type="image/png", size=len(EXE)
    ).json()
    assert upload(api, created["upload"], EXE).status == 204
    shown = api.get(f"/tickets/{number}/attachments/{created['id']}", client).json()
    assert (shown["status"], shown["reason"], shown["url"]) == ("rejected", "type_mismatch", None)
    assert api.get(f"/tickets/{number}", client).json()["attachments_count"] == 0


def test_the_upload_refuses_more_bytes_than_announced(api: Api, tokens: dict[str, str]) -> None:
    client = tokens["CLIENT_ACME"]
    number = create_ticket(api, client, title="Trop gros")["number"]
    created = announce(
        api, client, number, filename="a.png", content_type="image/png", size=len(PNG) - 1
    ).json()
    refused = upload(api, created["upload"], PNG)
    assert refused.status == 400 and b"EntityTooLarge" in refused.body
    shown = api.get(f"/tickets/{number}/attachments/{created['id']}", client).json()
    assert shown["status"] == "pending"


def test_internal_files_are_hidden_from_clients(api: Api, tokens: dict[str, str]) -> None:
    client, l1 = tokens["CLIENT_ACME"], tokens["L1"]
    number = create_ticket(api, client, title="Note interne jointe")["number"]
    created = announce(
        api, l1, number, filename="n.png", content_type="image/png", size=len(PNG), internal=True
    ).json()
    assert upload(api, created["upload"], PNG).status == 204
    assert api.get(f"/tickets/{number}/attachments/{created['id']}", client).status == 404
    assert api.get(f"/tickets/{number}/attachments/{created['id']}", l1).json()["status"] == (
        "available"
    )
    assert api.get(f"/tickets/{number}", client).json()["attachments_count"] == 0
    assert api.get(f"/tickets/{number}", l1).json()["attachments_count"] == 1
