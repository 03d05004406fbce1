"""Customer organisations and the roster: managers write them, staff read them (DESIGN §4, §7)."""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from helpdesk.domain.errors import InvalidInput

from .deps import current_caller, get_service, ok
from .schemas import responses
from .schemas_directory import (
    ConsultantIn,
    ConsultantList,
    ConsultantOut,
    ConsumptionOut,
    OrgIn,
    OrgList,
    OrgOut,
    consultant_out,
    consumption_out,
    org_out,
)

router = Router()

Identifier = Annotated[str, Path(min_length=1, max_length=128)]


@router.get(
    "/orgs",
    operation_id="listOrgs",
    summary="Every organisation (staff)",
    tags=["directory"],
    responses=responses(200, OrgList),
)
def list_orgs() -> Response[OrgList]:
    caller = current_caller(router)
    return ok(OrgList(items=[org_out(o) for o in get_service().list_orgs(caller)]))


@router.put(
    "/orgs/<org_id>",
    operation_id="putOrg",
    summary="Create or replace an organisation",
    tags=["directory"],
    responses=responses(200, OrgOut),
)
def put_org(org_id: Identifier, body: OrgIn) -> Response[OrgOut]:
    caller = current_caller(router)
    if body.org_id is not None and body.org_id != org_id:
        raise InvalidInput("org_id", "'org_id' in the body differs from the path's.")
    org = get_service().put_org(
        caller,
        org_id,
        name=body.name,
        email_domains=body.email_domains,
        auto_close_days=body.auto_close_days,
        hourly_rate=body.hourly_rate,
        currency=body.currency,
        quote_validity_days=body.quote_validity_days,
        contract=None if body.contract is None else body.contract.document(),
    )
    return ok(org_out(org))


@router.get(
    "/orgs/<org_id>",
    operation_id="getOrg",
    summary="An organisation",
    tags=["directory"],
    responses=responses(200, OrgOut, 404),
)
def get_org(org_id: Identifier) -> Response[OrgOut]:
    caller = current_caller(router)
    return ok(org_out(get_service().get_org(caller, org_id)))


@router.get(
    "/orgs/<org_id>/consumption",
    operation_id="getConsumption",
    summary="An organisation's hour budget of a month",
    description=(
        "Managers, finance and the organisation's clients (DESIGN.md §10): the assistance and "
        "incident minutes of the month against the contract's `included_minutes`. `month` "
        "(yyyy-mm) defaults to the current month in Europe/Paris."
    ),
    tags=["directory"],
    responses=responses(200, ConsumptionOut, 404),
)
def get_consumption(
    org_id: Identifier,
    month: Annotated[
        str | None, Query(max_length=7, description="yyyy-mm; default: this month (Paris)")
    ] = None,
) -> Response[ConsumptionOut]:
    caller = current_caller(router)
    org, use = get_service().consumption(caller, org_id, month)
    return ok(consumption_out(org, use))


@router.put(
    "/consultants/<id>",
    operation_id="putConsultant",
    summary="Create or replace a consultant",
    tags=["directory"],
    responses=responses(200, ConsultantOut),
)
def put_consultant(id: Identifier, body: ConsultantIn) -> Response[ConsultantOut]:
    caller = current_caller(router)
    if body.id is not None and body.id != id:
        raise InvalidInput("id", "'id' in the body differs from the path's.")
    consultant = get_service().put_consultant(
        caller,
        id,
        name=body.name,
        email=body.email,
        level=body.level,
        role=body.role,
        active=body.active,
    )
    return ok(consultant_out(consultant))


@router.get(
    "/consultants",
    operation_id="listConsultants",
    summary="The roster (staff)",
    description="Consultants (level 1-3) and managers (no level); `level` and `active` filter.",
    tags=["directory"],
    responses=responses(200, ConsultantList),
)
def list_consultants(
    level: Annotated[int | None, Query(ge=1, le=3, description="only this level")] = None,
    active: Annotated[
        Literal["true", "false"] | None, Query(description="only active (or inactive) entries")
    ] = None,
) -> Response[ConsultantList]:
    caller = current_caller(router)
    wanted = None if active is None else active == "true"
    consultants = get_service().list_consultants(caller, level=level, active=wanted)
    return ok(ConsultantList(items=[consultant_out(c) for c in consultants]))
