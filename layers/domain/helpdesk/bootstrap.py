"""The composition root: the DynamoDB, SES, S3 and Step Functions adapters behind the ports,
built once per Lambda environment from the settings (helpdesk.settings).

Handlers ask this module for what they serve; nothing talks to AWS before the first call.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from helpdesk.settings import Settings, get_settings

if TYPE_CHECKING:
    from helpdesk.adapters.dynamodb.toolkit import Table
    from helpdesk.adapters.dynamodb.unit_of_work import DynamoUnitOfWork
    from helpdesk.notifier import Notifier
    from helpdesk.service import HelpdeskService
    from helpdesk.workflow_commands import WorkflowCommands


def table(settings: Settings | None = None) -> Table:
    from helpdesk.adapters import aws_clients
    from helpdesk.adapters.dynamodb.toolkit import Table

    settings = settings or get_settings()
    return Table(aws_clients.client("dynamodb", settings), settings.table_name)


def unit_of_work(settings: Settings | None = None) -> DynamoUnitOfWork:
    from helpdesk.adapters.dynamodb.unit_of_work import DynamoUnitOfWork

    return DynamoUnitOfWork(table(settings))


@lru_cache(maxsize=1)
def service() -> HelpdeskService:
    from helpdesk.service import HelpdeskService

    return HelpdeskService(unit_of_work())


@lru_cache(maxsize=1)
def notifier() -> Notifier:
    from helpdesk.adapters import aws_clients
    from helpdesk.adapters.dynamodb.links import DynamoActionLinks
    from helpdesk.adapters.dynamodb.outbox import DynamoOutboxClaims
    from helpdesk.adapters.dynamodb.repositories import DynamoDirectoryRepository
    from helpdesk.adapters.ses import SesMailer
    from helpdesk.domain.outbox import Channel
    from helpdesk.notifier import Notifier

    settings = get_settings()
    dynamodb = table(settings)
    return Notifier(
        DynamoOutboxClaims(dynamodb, Channel.MAIL),
        DynamoDirectoryRepository(dynamodb),
        SesMailer(
            aws_clients.client("sesv2", settings),
            settings.sender,
            settings.ses_configuration_set,
        ),
        settings.mail_domain,
        links=DynamoActionLinks(dynamodb),
        app_url=settings.app_url,
    )


@lru_cache(maxsize=1)
def workflow_commands() -> WorkflowCommands:
    from helpdesk.adapters import aws_clients
    from helpdesk.adapters.dynamodb.outbox import DynamoOutboxClaims
    from helpdesk.adapters.dynamodb.repositories import DynamoTicketRepository
    from helpdesk.adapters.stepfunctions import StepFunctionsQuoteApprovals
    from helpdesk.domain.outbox import Channel
    from helpdesk.workflow_commands import WorkflowCommands

    settings = get_settings()
    dynamodb = table(settings)
    sfn = aws_clients.client("stepfunctions", settings)
    return WorkflowCommands(
        DynamoOutboxClaims(dynamodb, Channel.WORKFLOW),
        DynamoTicketRepository(dynamodb),
        StepFunctionsQuoteApprovals(sfn, settings.quote_state_machine_arn),
        day_seconds=settings.quote_day_seconds,
    )
