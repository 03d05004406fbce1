"""Single-table keys (see docs/data-model.md): every key of every item is built here."""

from __future__ import annotations

import hashlib

TICKET_SK = "TICKET"
COUNTER_KEY = {"pk": "COUNTER", "sk": "TICKET_NUMBER"}
ORGS_PK = "ORGS"
ROSTER_PK = "ROSTER"
ALL_TICKETS_PK = "TICKETS"
DUE_PK = "DUE"
SLA_WATCH_PK = "SLA"  # the sparse `sla_watch` index: tickets with a clock to look at


def pad(number: int) -> str:
    return f"{number:010d}"


def ticket_pk(number: int) -> str:
    return f"TICKET#{number}"


def ticket_key(number: int) -> dict[str, str]:
    return {"pk": ticket_pk(number), "sk": TICKET_SK}


def event_sk(version: int) -> str:
    return f"EVENT#{pad(version)}"


def task_sk(month: str) -> str:
    return f"TASK#{month}"


def time_sk(entry_id: str) -> str:
    return f"TIME#{entry_id}"


def outbox_sk(version: int, kind: str) -> str:
    return f"OUTBOX#{pad(version)}#{kind}"


def message_id_key(message_id: str) -> dict[str, str]:
    """Our own outgoing Message-ID -> the ticket it belongs to (threads the replies)."""
    return {"pk": f"MSGID#{message_id}", "sk": "MSGID"}


MAX_KEY_PART = 512


def bounded(value: str) -> str:
    """A key part DynamoDB accepts: long values (hostile headers) become their hash."""
    if len(value.encode()) <= MAX_KEY_PART:
        return value
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()


def mail_key(sha256: str) -> dict[str, str]:
    """One received message, by the SHA-256 of its raw bytes."""
    return {"pk": f"MAIL#{sha256}", "sk": "MAIL"}


QUARANTINE_PK = "QUARANTINE"  # the `quarantine` index: quarantined mail records (sparse)


def quarantine_sk(received_at: str, sha256: str) -> str:
    """Newest first when read backwards: the time received, then the record."""
    return f"{received_at}#{sha256}"


def inbound_message_key(message_id: str) -> dict[str, str]:
    """A Message-ID handled (so another delivery of it is a duplicate)."""
    return {"pk": f"MSGIN#{bounded(message_id)}", "sk": "MSGIN"}


def mail_rate_key(sender: str, hour: str) -> dict[str, str]:
    return {"pk": f"MAILRATE#{bounded(sender)}", "sk": f"HOUR#{hour}"}


def month_lock_history_prefix(month: str) -> str:
    return f"HISTORY#{month}#"


def comment_sk(at: str, comment_id: str) -> str:
    return f"COMMENT#{at}#{comment_id}"


ATTACHMENT_PREFIX = "ATTACHMENT#"


def attachment_key(ticket_number: int, attachment_id: str) -> dict[str, str]:
    """An attachment of the ticket (§11), in the ticket's partition; ids sort by time."""
    return {"pk": ticket_pk(ticket_number), "sk": f"{ATTACHMENT_PREFIX}{attachment_id}"}


def org_key(org_id: str) -> dict[str, str]:
    return {"pk": ORGS_PK, "sk": f"ORG#{org_id}"}


def domain_key(domain: str) -> dict[str, str]:
    return {"pk": f"DOMAIN#{domain}", "sk": "DOMAIN"}


def consultant_key(consultant_id: str) -> dict[str, str]:
    return {"pk": ROSTER_PK, "sk": f"CONSULTANT#{consultant_id}"}


def consultant_day_key(consultant_id: str, day: str) -> dict[str, str]:
    return {"pk": f"CONSULTANT#{consultant_id}", "sk": f"DAY#{day}"}


LOCK_PK = "LOCK"


def month_lock_key(month: str) -> dict[str, str]:
    return {"pk": LOCK_PK, "sk": f"MONTH#{month}"}


def org_index_pk(org_id: str) -> str:
    return f"ORG#{org_id}"


def queue_pk(level: int) -> str:
    return f"QUEUE#{level}"


def month_pk(month: str) -> str:
    return f"MONTH#{month}"


def assignee_pk(assignee: str, *, closed: bool = False) -> str:
    """A consultant's tickets not closed (`ASSIGNEE#<id>`), their closed ones apart
    (`ASSIGNEE#<id>#closed`), so "my tickets" never reads a consultant's history."""
    return f"ASSIGNEE#{assignee}#closed" if closed else f"ASSIGNEE#{assignee}"


def unassigned_pk(level: int) -> str:
    """The tickets of a level nobody holds, not closed (the level's queue)."""
    return f"ASSIGNEE#-#{level}"


def word_sk(word: str) -> str:
    return f"WORD#{word}"


def word_index_pk(word: str, org_id: str | None = None) -> str:
    """The search partitions: by the word's first character, all organisations or one."""
    return f"WORD#{word[0]}" if org_id is None else f"WORD#{org_id}#{word[0]}"


def link_key(token_hash: str) -> dict[str, str]:
    """An action link (DESIGN.md §8), by the SHA-256 of its token: the token is never stored."""
    return {"pk": f"LINK#{token_hash}", "sk": "LINK"}


def budget_key(org_id: str, month: str) -> dict[str, str]:
    """An organisation's hour-budget counter of one month (DESIGN.md §10)."""
    return {"pk": f"BUDGET#{org_id}", "sk": f"MONTH#{month}"}
