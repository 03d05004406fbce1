"""The directory's request and response models: organisations, their contracts and
service levels, consultants, hour budgets (directory.py).

Apart from schemas.py so that a cold start builds only the models of the router it serves
(bench/results.md, Cold start)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from helpdesk.domain.budget import BudgetUse
from helpdesk.domain.contract import contract_json
from helpdesk.domain.directory import Consultant, Organisation, RosterRole

from .schemas import (
    Body,
    Line,
    Model,
    Money,
    StrictBool,
    StrictInt,
    StrictStr,
    money,
)

Holidays = Literal["FR", "FR-ALSACE-MOSELLE"]  # helpdesk.domain.business_time.HolidayCalendar


class BusinessHoursIn(Body):
    days: list[StrictInt] | None = Field(
        default=None, description="ISO weekdays, 1 (Monday) to 7; default [1, 2, 3, 4, 5]"
    )
    start: StrictStr | None = Field(default=None, description="HH:MM, Paris; default 09:00")
    end: StrictStr | None = Field(default=None, description="HH:MM (24:00 allowed); default 18:00")


class SlaTargetIn(Body):
    take_minutes: StrictInt | None = Field(default=None, description="business minutes")
    answer_minutes: StrictInt | None = Field(default=None, description="business minutes")


class SlaIn(Body):
    critical: SlaTargetIn | None = None
    high: SlaTargetIn | None = None
    normal: SlaTargetIn | None = None
    low: SlaTargetIn | None = None


class ContractIn(Body):
    """DESIGN.md §10: every field optional; left out (or null), the default."""

    business_hours: BusinessHoursIn | None = None
    holidays: Holidays | None = None
    sla: SlaIn | None = None
    included_minutes: StrictInt | None = Field(
        default=None, description="monthly hour budget in minutes; null: none"
    )
    monthly_fee: Money | None = None
    alert_emails: list[StrictStr] | None = None

    def document(self) -> dict[str, Any]:
        """The contract's JSON document (§10) as sent, for the domain to check and complete."""
        return self.model_dump(exclude_none=True)


class OrgIn(Body):
    org_id: StrictStr | None = Field(default=None, description="if given, the path's org_id")
    name: Line
    email_domains: list[StrictStr] = Field(default_factory=list)
    auto_close_days: Annotated[StrictInt, Field(ge=1, le=365)] = 7
    hourly_rate: Money | None = None
    currency: StrictStr = "EUR"
    quote_validity_days: Annotated[
        StrictInt,
        Field(ge=1, le=365, description="days a quote stays valid, unless submit-quote says"),
    ] = 30
    contract: ContractIn | None = None


class ConsultantIn(Body):
    id: StrictStr | None = Field(default=None, description="if given, the path's id")
    name: Line
    email: StrictStr
    level: Annotated[StrictInt | None, Field(ge=1, le=3, description="1-3; none for a manager")] = (
        None
    )
    role: RosterRole = RosterRole.CONSULTANT
    active: StrictBool = True


class BusinessHoursOut(Model):
    days: list[int]
    start: str
    end: str


class SlaTargetOut(Model):
    take_minutes: int
    answer_minutes: int


class SlaOut(Model):
    critical: SlaTargetOut
    high: SlaTargetOut
    normal: SlaTargetOut
    low: SlaTargetOut


class ContractOut(Model):
    business_hours: BusinessHoursOut
    holidays: Holidays
    sla: SlaOut
    included_minutes: int | None
    monthly_fee: str | None
    alert_emails: list[str]


class OrgOut(Model):
    org_id: str
    name: str
    email_domains: list[str]
    auto_close_days: int
    hourly_rate: str | None
    currency: str
    quote_validity_days: int
    contract: ContractOut


class ConsultantOut(Model):
    id: str
    name: str
    email: str
    level: int | None
    role: RosterRole
    active: bool


class ConsultantList(Model):
    items: list[ConsultantOut]
    next_cursor: str | None = None


class OrgList(Model):
    items: list[OrgOut]
    next_cursor: str | None = None


def org_out(org: Organisation) -> OrgOut:
    return OrgOut(
        org_id=org.org_id,
        name=org.name,
        email_domains=list(org.email_domains),
        auto_close_days=org.auto_close_days,
        hourly_rate=money(org.hourly_rate),
        currency=org.currency,
        quote_validity_days=org.quote_validity_days,
        contract=ContractOut.model_validate(contract_json(org.contract)),
    )


def consultant_out(consultant: Consultant) -> ConsultantOut:
    return ConsultantOut(
        id=consultant.id,
        name=consultant.name,
        email=consultant.email,
        level=consultant.level,
        role=consultant.role,
        active=consultant.active,
    )


class ConsumptionOut(Model):
    """An organisation's hour budget of one month (DESIGN.md §10), with its contract."""

    month: str = Field(description="yyyy-mm, Europe/Paris")
    org_id: str
    included_minutes: int | None = Field(description="the budget; null: none")
    consumed_minutes: int = Field(description="assistance and incident minutes of the month")
    remaining_minutes: int | None = Field(description="negative when over; null: no budget")
    overage_minutes: int | None = Field(description="minutes over the budget; null: no budget")
    monthly_fee: str | None
    contract: ContractOut


def consumption_out(org: Organisation, use: BudgetUse) -> ConsumptionOut:
    return ConsumptionOut(
        month=use.month,
        org_id=org.org_id,
        included_minutes=use.included_minutes,
        consumed_minutes=use.consumed_minutes,
        remaining_minutes=use.remaining_minutes,
        overage_minutes=use.overage_minutes,
        monthly_fee=money(org.contract.monthly_fee),
        contract=ContractOut.model_validate(contract_json(org.contract)),
    )
