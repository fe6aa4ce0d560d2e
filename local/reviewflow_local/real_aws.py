"""Real Amazon Bedrock and Comprehend for the model calls, everything else in the emulation.

With ``--llm bedrock`` or ``--toxicity comprehend`` the template is synthesized exactly as for
AWS (``llm_provider: bedrock``, ``toxicity_provider: comprehend``), and the handlers run in this
process as always. What differs is which botocore client answers two services:

- Before moto starts, ``RealAwsModels.capture`` resolves the user's own AWS configuration (the
  default credential chain: environment, profile, SSO, ...) into frozen credentials and a region.
  moto replaces the environment's credentials with fake ones while it runs, so they are read
  first; refreshing credentials (an assumed role) are frozen too, since a refresh would call STS
  through the emulation. A run outliving them fails its model calls with ``provider_error``.
- After the stack is up, ``install`` gives the provider registry one client per real service
  (``registry.set_client_override``), built with exactly those credentials and region and with
  moto's interceptor removed (``moto_patches.real_clients``). Every other client the handlers
  build keeps coming from ``boto3.client`` with moto's fake credentials, into the emulation.

So the real credentials sign only ``bedrock-runtime`` and ``comprehend`` requests, and no
emulated service ever receives them; tests/unit/local/test_real_aws.py proves both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from reviewflow_local.cli_checks import CliError

REAL_SERVICES = ("bedrock-runtime", "comprehend")
#: What each real service is called in the warning, with what it is billed for.
_BILLING = {
    "bedrock-runtime": "Amazon Bedrock (sentiment and reply: input and output tokens of every call)",
    "comprehend": "Amazon Comprehend (toxicity: every review and every draft reply, per 100 characters)",
}


@dataclass(frozen=True)
class RealAwsModels:
    """The user's AWS configuration for the real model clients (captured before moto starts)."""

    services: tuple[str, ...]
    region: str
    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)
    profile: str | None = None

    @classmethod
    def capture(cls, services: Sequence[str], session: Any | None = None) -> RealAwsModels:
        """Resolve credentials and region now; ``CliError`` when either is missing."""
        unknown = sorted(set(services) - set(REAL_SERVICES))
        if unknown:
            raise ValueError(f"only {', '.join(REAL_SERVICES)} may reach AWS, not {', '.join(unknown)}")
        if session is None:
            import boto3

            session = boto3.Session()
        credentials = session.get_credentials()
        frozen = credentials.get_frozen_credentials() if credentials is not None else None
        if frozen is None or not frozen.access_key:
            raise CliError(
                f"{_options(services)} calls real AWS with your credentials, and none were found; "
                "run 'aws configure' (or 'aws sso login'), or set AWS_PROFILE"
            )
        if not session.region_name:
            raise CliError(
                f"{_options(services)} needs an AWS region; set AWS_REGION or a region in your AWS profile"
            )
        return cls(
            services=tuple(services),
            region=session.region_name,
            access_key_id=frozen.access_key,
            secret_access_key=frozen.secret_key,
            session_token=frozen.token,
            profile=getattr(session, "profile_name", None),
        )

    def client(self, service: str) -> Any:
        """A client for ``service`` signed with the captured credentials, not answered by moto."""
        if service not in self.services:
            raise ValueError(f"{service} stays in the emulation; real AWS is only for {self.services}")
        import boto3
        from botocore.config import Config

        from reviewflow_local.moto_patches.real_clients import without_emulation

        session = boto3.Session(
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
            aws_session_token=self.session_token,
            region_name=self.region,
        )
        # The same retry policy as the registry's clients: the workflow's Retry is the one that counts.
        config = Config(retries={"max_attempts": 2, "mode": "standard"})
        return without_emulation(session.client(service, region_name=self.region, config=config))

    def install(self) -> dict[str, Any]:
        """Give the provider registry the real clients (call after the pipeline started: its start
        resets the registry). Returns them by service."""
        from reviewflow.providers import registry

        clients = {service: self.client(service) for service in self.services}
        for service, client in clients.items():
            registry.set_client_override(service, client)
        return clients

    def warning(self) -> str:
        """The loud notice a run prints before it boots."""
        key = f"...{self.access_key_id[-4:]}" if len(self.access_key_id) > 4 else "(short key)"
        who = f"profile {self.profile}, access key {key}" if self.profile else f"access key {key}"
        lines = [
            "!" * 78,
            f"!! REAL AWS: {_options(self.services)} sends model calls to AWS in {self.region}",
            f"!! with your credentials ({who}). You are billed for:",
            *(f"!!   - {_BILLING[service]}" for service in self.services),
            "!! Review texts leave this machine. Everything else (bus, workflow, table, topics,",
            "!! approvals) stays in the local emulation and never sees these credentials.",
            "!" * 78,
        ]
        return "\n".join(lines)


def _options(services: Sequence[str]) -> str:
    flags = []
    if "bedrock-runtime" in services:
        flags.append("--llm bedrock")
    if "comprehend" in services:
        flags.append("--toxicity comprehend")
    return " and ".join(flags)
