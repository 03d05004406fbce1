"""Configuration from the environment variables declared in template.yaml, read once."""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)

    table_name: str = Field(alias="TABLE_NAME", min_length=3)
    idempotency_table_name: str = Field(alias="IDEMPOTENCY_TABLE_NAME", default="")
    stage: str = Field(alias="STAGE", default="local")
    aws_region: str = Field(alias="AWS_REGION", default="eu-west-1")
    endpoint_url: str | None = Field(alias="AWS_ENDPOINT_URL", default=None)
    mail_domain: str = Field(alias="MAIL_DOMAIN", default="helpdesk.localhost")
    mail_from: str = Field(alias="MAIL_FROM", default="")
    exports_bucket: str = Field(alias="EXPORTS_BUCKET", default="")
    # Local only: the base URL presigned export links point at (the local stack's /_local/s3).
    exports_public_endpoint: str | None = Field(alias="EXPORTS_PUBLIC_ENDPOINT", default=None)
    # The notifier's only: the quote-approval state machine it starts and resumes.
    quote_state_machine_arn: str = Field(alias="QUOTE_STATE_MACHINE_ARN", default="")

    @property
    def sender(self) -> str:
        """The address notifications come from (replies to it come back to us)."""
        return self.mail_from or f"support@{self.mail_domain}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.model_validate(dict(os.environ))
