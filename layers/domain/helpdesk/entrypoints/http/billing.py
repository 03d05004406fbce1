"""Monthly billing exports (finance and managers): read, generate, unlock.

- `GET /billing/exports/{yyyy-mm}`: the month's manifest, each file with a presigned `url`
  (5 minutes) to the exact object version it describes; 404 while the month is not exported.
- `POST /billing/exports/{yyyy-mm}`: generate (locks the month): 201 with the manifest when this
  call exported it, 200 with the stored one (unchanged) when it was already exported; a month
  that has not ended (Europe/Paris) is 422 naming `month`.
- `POST /billing/exports/{yyyy-mm}/unlock` (managers): `{"reason"}`; the month accepts time
  entries again and the next export writes new object versions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path
from pydantic import Field

from .deps import current_caller, get_service, ok
from .schemas import Body, Model, responses

if TYPE_CHECKING:
    from helpdesk.billing_export import BillingExporter
    from helpdesk.ports_billing import ExportFiles

# The export modules are imported on the first billing request, not at cold start: every
# other route's first call would pay for them (bench/results.md, Cold start).

router = Router()

Month = Annotated[
    str,
    Path(
        description="yyyy-mm (Europe/Paris)",
        min_length=7,
        max_length=7,
        pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$",
    ),
]


def set_exports(exports: ExportFiles | None) -> None:
    """Export to this bucket from now on (tests, the local stack); None: the settings' one."""
    from helpdesk import bootstrap_billing

    bootstrap_billing.use_exports(exports)


def _exporter() -> BillingExporter:
    from helpdesk import bootstrap_billing

    return bootstrap_billing.billing_exporter()


# The manifest's models declare every field manifest.json has (helpdesk.domain.billing
# build_manifest, file_entry): what they do not declare is not sent.


class ExportFileOut(Model):
    name: str
    key: str
    size: int
    sha256: str = Field(pattern="^[0-9a-f]{64}$")
    rows: int
    content_type: str
    url: str = Field(description="presigned GET of this exact version, valid 5 minutes")


class ExportOrgOut(Model):
    org_id: str
    minutes: int
    time_amount: str
    quote_amount: str
    amount: str
    name: str
    currency: str
    rows: int
    hours: str
    # An organisation on a forfait (§10); null otherwise (and in manifests written before).
    included_minutes: int | None = None
    overage_minutes: int | None = None
    monthly_fee: str | None = None


class ExportTotalsOut(Model):
    minutes: int
    amount: str
    hours: str
    time_amount: str
    quote_amount: str


class ExportEntriesOut(Model):
    read: int
    billed: int
    not_billed: int
    sha256: str


class ManifestOut(Model):
    """manifest.json (DESIGN.md §4), with `url` added to each file."""

    month: str
    generated_at: str
    schema_version: int
    export_id: str
    files: list[ExportFileOut]
    row_counts: dict[str, int]
    organisations: list[ExportOrgOut]
    totals: ExportTotalsOut
    entries: ExportEntriesOut


class UnlockIn(Body):
    reason: str = Field(min_length=1, max_length=2000)


class UnlockOut(Model):
    month: str
    status: str
    unlocked_by: str
    reason: str
    at: str
    previous_export_id: str


def _manifest_out(manifest: dict[str, Any]) -> ManifestOut:
    """The answer as the OpenAPI document shows it."""
    return ManifestOut.model_validate(manifest)


@router.get(
    "/billing/exports/<month>",
    operation_id="getExport",
    summary="A month's billing export: manifest and links (finance, managers)",
    tags=["billing"],
    responses=responses(200, ManifestOut, 404),
)
def get_export(month: Month) -> Response[ManifestOut]:
    exporter = _exporter()
    result = exporter.manifest(current_caller(router), month)
    return ok(_manifest_out(exporter.with_links(result)))


@router.post(
    "/billing/exports/<month>",
    operation_id="generateExport",
    status_code=201,
    summary="Generate a month's billing export (locks the month; only a month that has ended)",
    tags=["billing"],
    responses={
        **responses(201, ManifestOut, 409),
        200: {
            "description": "Already exported: the stored manifest, unchanged",
            "content": {"application/json": {"model": ManifestOut}},
        },
    },
)
def generate_export(month: Month) -> Response[ManifestOut]:
    exporter = _exporter()
    result = exporter.export(current_caller(router), month, get_service().clock())
    return ok(_manifest_out(exporter.with_links(result)), 201 if result.created else 200)


@router.post(
    "/billing/exports/<month>/unlock",
    operation_id="unlockExport",
    summary="Unlock an exported month (managers; the reason is kept)",
    tags=["billing"],
    responses=responses(200, UnlockOut, 409),
)
def unlock_export(month: Month, body: UnlockIn) -> Response[UnlockOut]:
    exporter = _exporter()
    caller = current_caller(router)
    unlocked = exporter.unlock(caller, month, body.reason, get_service().clock())
    return ok(UnlockOut.model_validate(unlocked))
