"""Opening a ticket, the conversation, organisations and the consultant roster."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from helpdesk.domain.comments import Comment, new_comment, visible_to
from helpdesk.domain.directory import (
    RosterRole,
    active_managers,
    check_identifier,
    new_consultant,
    new_organisation,
)
from helpdesk.domain.errors import Forbidden, InvalidInput
from helpdesk.domain.model import GROUP_ROLES, Caller, Role, Source, TicketType
from helpdesk.domain.tickets import MAX_TITLE, TicketDraft, draft_ticket
from tests.unit.builders import (
    CLIENT,
    FINANCE,
    L1,
    L3,
    MANAGER,
    NOW,
    OTHER_CLIENT,
    SYSTEM,
    base_ticket,
)

# ------------------------------------------------------------------ draft_ticket


def draft(
    caller: Caller, org_id: str | None = None, title: str = "Un titre", **kw: object
) -> TicketDraft:
    return draft_ticket(
        caller,
        title=title,
        description=str(kw.get("description", "  Le texte.  ")),
        type=TicketType.INCIDENT,
        org_id=org_id,
        now=NOW,
    )


def test_client_opens_for_its_own_organisation() -> None:
    ticket = draft(CLIENT)
    assert ticket.org_id == "acme"
    assert (ticket.requester, ticket.requester_email) == (CLIENT.id, CLIENT.email)
    assert ticket.description == "Le texte."
    assert ticket.type is TicketType.INCIDENT
    assert ticket.created_at == NOW
    assert draft(CLIENT, org_id="acme").org_id == "acme"


def test_client_cannot_open_for_another_organisation() -> None:
    with pytest.raises(InvalidInput) as error:
        draft(CLIENT, org_id="globex")
    assert error.value.field == "org_id"


def test_client_without_organisation_is_refused() -> None:
    with pytest.raises(InvalidInput) as error:
        draft(Caller(id="x", role=Role.CLIENT))
    assert error.value.field == "org_id"


@pytest.mark.parametrize("caller", [L1, L3, MANAGER, SYSTEM], ids=["l1", "l3", "manager", "system"])
def test_staff_must_give_the_organisation(caller: Caller) -> None:
    for missing in (None, ""):
        with pytest.raises(InvalidInput) as error:
            draft(caller, org_id=missing)
        assert error.value.field == "org_id"
    assert draft(caller, org_id="globex").org_id == "globex"


def test_finance_does_not_open_tickets() -> None:
    with pytest.raises(Forbidden):
        draft(FINANCE, org_id="acme")


def test_title_is_normalised() -> None:
    assert draft(CLIENT, title="  Création  de  l'utilisateur Fabrice ").title == (
        "Création de l'utilisateur Fabrice"
    )


@pytest.mark.parametrize("control", ["\n", "\t"])
def test_title_refuses_tabs_and_newlines(control: str) -> None:
    # DESIGN §7: titles refuse control characters (descriptions keep tabs and newlines).
    with pytest.raises(InvalidInput) as error:
        draft(CLIENT, title=f"Création{control}de l'utilisateur")
    assert error.value.field == "title"


@pytest.mark.parametrize("title", ["", "   ", "\n\t"])
def test_title_is_required(title: str) -> None:
    with pytest.raises(InvalidInput) as error:
        draft(CLIENT, title=title)
    assert error.value.field == "title"


def test_title_length() -> None:
    assert len(draft(CLIENT, title="x" * MAX_TITLE).title) == MAX_TITLE
    with pytest.raises(InvalidInput) as error:
        draft(CLIENT, title="x" * (MAX_TITLE + 1))
    assert error.value.field == "title"


def test_description_too_long() -> None:
    with pytest.raises(InvalidInput) as error:
        draft(CLIENT, description="x" * 20001)
    assert error.value.field == "description"


def test_created_at_is_utc() -> None:
    ticket = draft_ticket(
        CLIENT,
        title="t",
        description="",
        type=TicketType.ASSISTANCE,
        org_id=None,
        now=NOW.astimezone(ZoneInfo("Europe/Paris")),
    )
    assert ticket.created_at == NOW and ticket.created_at.utcoffset() == timedelta(0)


# ------------------------------------------------------------------ comments


def comment(caller: Caller, *, internal: bool = False, body: str = " Bonjour ") -> Comment:
    return new_comment(
        base_ticket(), caller, comment_id="c1", body=body, internal=internal, now=NOW
    )


def test_client_comment() -> None:
    written = new_comment(
        base_ticket(),
        CLIENT,
        comment_id="c1",
        body=" Bonjour ",
        internal=False,
        now=NOW,
        source=Source.EMAIL,
        message_id="<m@acme.example>",
    )
    assert (written.author, written.author_role, written.body) == (CLIENT.id, "client", "Bonjour")
    assert (written.source, written.message_id, written.ticket_number) == (
        Source.EMAIL,
        "<m@acme.example>",
        88,
    )


def test_client_cannot_write_internal() -> None:
    with pytest.raises(InvalidInput) as error:
        comment(CLIENT, internal=True)
    assert error.value.field == "internal"


@pytest.mark.parametrize("caller", [L1, MANAGER], ids=["consultant", "manager"])
def test_staff_writes_internal(caller: Caller) -> None:
    assert new_comment(
        base_ticket(), caller, comment_id="c", body="note", internal=True, now=NOW
    ).internal


def test_finance_takes_no_part() -> None:
    with pytest.raises(Forbidden):
        comment(FINANCE)


@pytest.mark.parametrize("body", ["", "   ", "x" * 20001])
def test_comment_body(body: str) -> None:
    with pytest.raises(InvalidInput) as error:
        comment(CLIENT, body=body)
    assert error.value.field == "body"


@pytest.mark.parametrize(
    ("caller", "sees_internal"),
    [(CLIENT, False), (OTHER_CLIENT, False), (L1, True), (L3, True), (MANAGER, True)],
    ids=["client", "other-client", "l1", "l3", "manager"],
)
def test_visible_to(caller: Caller, sees_internal: bool) -> None:
    public = new_comment(base_ticket(), L1, comment_id="p", body="p", internal=False, now=NOW)
    internal = new_comment(base_ticket(), L1, comment_id="i", body="i", internal=True, now=NOW)
    assert visible_to(public, caller)
    assert visible_to(internal, caller) is sees_internal


# ------------------------------------------------------------------ directory


def test_organisation_defaults_and_normalisation() -> None:
    org = new_organisation("acme", " Acme ", [" ACME.example", "acme.example", "mail.acme.fr"])
    assert org.name == "Acme"
    assert org.email_domains == ("acme.example", "mail.acme.fr")
    assert (org.auto_close_days, org.hourly_rate, org.currency) == (7, None, "EUR")


@pytest.mark.parametrize(
    "domain", ["acme", "-acme.example", "acme..example", "ac me.example", "acme.example.", "a@b.fr"]
)
def test_bad_mail_domain(domain: str) -> None:
    with pytest.raises(InvalidInput) as error:
        new_organisation("acme", "Acme", [domain])
    assert error.value.field == "email_domains"


def test_local_mail_domain_is_a_domain() -> None:
    assert new_organisation("x", "X", ["helpdesk.localhost"]).email_domains == (
        "helpdesk.localhost",
    )


@pytest.mark.parametrize(
    ("rate", "stored"), [("90.00", "90.00"), ("90", "90.00"), ("85.5", "85.50")]
)
def test_hourly_rate(rate: str, stored: str) -> None:
    org = new_organisation("acme", "Acme", [], hourly_rate=rate)
    assert org.hourly_rate == Decimal(stored)
    assert str(org.hourly_rate) == stored


@pytest.mark.parametrize("rate", ["0", "-5", "90.001", "abc", "1e30"])
def test_bad_hourly_rate(rate: str) -> None:
    with pytest.raises(InvalidInput) as error:
        new_organisation("acme", "Acme", [], hourly_rate=rate)
    assert error.value.field == "hourly_rate"


def test_euro_is_accepted_explicitly() -> None:
    assert new_organisation("acme", "Acme", [], currency="EUR").currency == "EUR"


@pytest.mark.parametrize("currency", ["USD", "GBP", "CHF"])
def test_an_organisation_is_billed_in_euros_only(currency: str) -> None:
    """Quotes are in EUR and billing totals add them to time: another currency is refused."""
    with pytest.raises(InvalidInput) as error:
        new_organisation("acme", "Acme", [], hourly_rate="90", currency=currency)
    assert error.value.field == "currency"
    assert "EUR" in error.value.detail and currency in error.value.detail


@pytest.mark.parametrize("days", [0, -1, 366])
def test_bad_auto_close_days(days: int) -> None:
    with pytest.raises(InvalidInput) as error:
        new_organisation("acme", "Acme", [], auto_close_days=days)
    assert error.value.field == "auto_close_days"


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("org_id", {"org_id": "bad id"}),
        ("name", {"name": "  "}),
        ("currency", {"currency": "eur"}),
        ("currency", {"currency": "EURO"}),
    ],
)
def test_bad_organisation_fields(field: str, kwargs: dict[str, str]) -> None:
    args: dict[str, object] = {"org_id": "acme", "name": "Acme", "email_domains": []}
    args.update(kwargs)
    with pytest.raises(InvalidInput) as error:
        new_organisation(**args)  # type: ignore[arg-type]
    assert error.value.field == field


@pytest.mark.parametrize("level", [1, 2, 3])
def test_consultant_levels(level: int) -> None:
    consultant = new_consultant("cons-1", " Ana ", " Ana@Consult.Example ", level)
    assert (consultant.name, consultant.email, consultant.level) == (
        "Ana",
        "ana@consult.example",
        level,
    )


@pytest.mark.parametrize("level", [0, 4, -1, True])
def test_bad_consultant_level(level: int) -> None:
    with pytest.raises(InvalidInput) as error:
        new_consultant("cons-1", "Ana", "ana@consult.example", level)
    assert error.value.field == "level"


@pytest.mark.parametrize(
    ("field", "args"),
    [
        ("id", ("", "Ana", "a@b.fr")),
        ("id", ("has space", "Ana", "a@b.fr")),
        ("name", ("c1", " ", "a@b.fr")),
        ("email", ("c1", "Ana", "not-an-email")),
        ("email", ("c1", "Ana", "a@@b.fr")),
    ],
)
def test_bad_consultant_fields(field: str, args: tuple[str, str, str]) -> None:
    with pytest.raises(InvalidInput) as error:
        new_consultant(*args, 2)
    assert error.value.field == field


def test_a_roster_entry_is_an_active_consultant_by_default() -> None:
    entry = new_consultant("cons-1", "Ana", "ana@consult.example", 2)
    assert (entry.role, entry.active) == (RosterRole.CONSULTANT, True)
    assert entry.assignable_level == 2


def test_a_manager_on_the_roster_has_no_level_and_is_never_assignable() -> None:
    boss = new_consultant("boss", "Bea", "bea@consult.example", None, role="manager")
    assert (boss.role, boss.level, boss.active) == (RosterRole.MANAGER, None, True)
    assert boss.assignable_level is None
    with pytest.raises(InvalidInput) as error:
        new_consultant("boss", "Bea", "bea@consult.example", 2, role="manager")
    assert error.value.field == "level"


@pytest.mark.parametrize(("role", "level"), [("consultant", None), ("admin", 1), ("", 1)])
def test_bad_roster_role_or_missing_level(role: str, level: int | None) -> None:
    with pytest.raises(InvalidInput) as error:
        new_consultant("c1", "Ana", "a@b.fr", level, role=role)
    assert error.value.field == ("level" if role == "consultant" else "role")


def test_an_inactive_consultant_is_never_assignable() -> None:
    gone = new_consultant("c1", "Ana", "a@b.fr", 1, active=False)
    assert (gone.active, gone.level, gone.assignable_level) == (False, 1, None)


def test_the_managers_are_the_active_roster_entries_of_that_role() -> None:
    roster = [
        new_consultant("c1", "Ana", "a@b.fr", 1),
        new_consultant("m1", "Bea", "b@b.fr", None, role="manager"),
        new_consultant("m2", "Cal", "c@b.fr", None, role="manager", active=False),
        new_consultant("c2", "Dan", "d@b.fr", 3, active=False),
    ]
    assert [m.id for m in active_managers(roster)] == ["m1"]


def test_check_identifier() -> None:
    assert check_identifier("org_1.acme@x+y-z", "org_id") == "org_1.acme@x+y-z"
    with pytest.raises(InvalidInput):
        check_identifier("x" * 129, "org_id")


def test_group_roles() -> None:
    assert GROUP_ROLES == {
        "clients": (Role.CLIENT, None),
        "consultants-l1": (Role.CONSULTANT, 1),
        "consultants-l2": (Role.CONSULTANT, 2),
        "consultants-l3": (Role.CONSULTANT, 3),
        "managers": (Role.MANAGER, None),
        "finance": (Role.FINANCE, None),
    }
