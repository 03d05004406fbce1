"""The hour-budget alert mails (DESIGN.md §8, §10): at 80 % and at 100 % of an organisation's
`included_minutes`, once per month each, to the contract's `alert_emails` and to the managers.

Pure: composes the messages with the texts' helpers of helpdesk.domain.notifications. They are
queued in the outbox with the time entry that crossed the threshold (in the partition of its
ticket, keyed by threshold, month and recipient), and carry no ticket reference in their
subject: they are about the contract, not a ticket.
"""

from __future__ import annotations

from decimal import Decimal

from helpdesk.domain import french
from helpdesk.domain.budget import BudgetMove
from helpdesk.domain.calendar import french_month_label
from helpdesk.domain.directory import Organisation
from helpdesk.domain.model import Ticket
from helpdesk.domain.notifications import (
    Notification,
    NotificationKind,
    _Facts,
    _html,
    _Para,
    _plain,
    typed,
)
from helpdesk.domain.timekeeping import hours


def _hours(minutes: int) -> str:
    """`1 410 minutes` -> `23,5 h`."""
    return f"{french.number(hours(minutes))} h"


def budget_alerts(org: Organisation, ticket: Ticket, move: BudgetMove) -> list[Notification]:
    """The mails of the thresholds `move` crosses: one per alert address, one to the managers."""
    included = org.contract.included_minutes
    if included is None or not move.alerts:
        return []
    month = move.before.month
    consumed = move.minutes_after
    name = typed(org.name or org.org_id)
    label = french_month_label(month)
    mails: list[Notification] = []
    for threshold in move.alerts:
        reached = "atteint" if threshold >= 100 else f"atteint à {threshold} %"
        subject = f"Forfait d'heures {reached} : {name}, {label}"
        percent = Decimal(consumed * 100) / Decimal(included) if included else Decimal(100)
        facts = _Facts(
            (
                ("Organisation", name),
                ("Mois", label),
                ("Heures incluses", _hours(included)),
                ("Heures consommées", _hours(consumed)),
                ("Consommation", f"{french.number(percent.quantize(Decimal('1')))} %"),
            )
        )
        if threshold >= 100:
            lead = _Para(
                f"Le forfait d'heures de {label} est entièrement consommé. Le temps passé au "
                "delà des heures incluses sera facturé en dépassement au taux horaire du contrat."
            )
        else:
            lead = _Para(
                f"Le forfait d'heures de {label} est consommé à {threshold} %. Ce message est "
                "envoyé une seule fois par mois."
            )
        blocks: list[_Para | _Facts] = [lead, facts]
        ref = f"{threshold}_{month}"
        for n, address in enumerate(org.contract.alert_emails):
            mails.append(
                Notification(
                    kind=NotificationKind.BUDGET_ALERT,
                    ticket_number=ticket.number,
                    to=address,
                    subject=subject,
                    body=_plain(blocks),
                    html=_html(blocks),
                    ref=f"{ref}_{n}",
                )
            )
        mails.append(
            Notification(
                kind=NotificationKind.STAFF_BUDGET_ALERT,
                ticket_number=ticket.number,
                to="",
                subject=subject,
                body=_plain(blocks),
                html=_html(blocks),
                ref=ref,
                to_managers=True,
            )
        )
    return mails
