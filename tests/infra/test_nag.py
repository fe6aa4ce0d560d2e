"""cdk-nag runs at synth: an unacknowledged finding fails the synth; acknowledgments need reasons."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.infra.conftest import ASL_FILE, cdk_json_context


def test_an_unacknowledged_finding_fails_the_synth(tmp_path: Path) -> None:
    import aws_cdk as cdk
    from aws_cdk import aws_sqs as sqs

    from stacks.config import ReviewflowConfig
    from stacks.nag import enable_nag
    from stacks.reviewflow_stack import ReviewflowStack

    app = cdk.App(context=cdk_json_context(), outdir=str(tmp_path))
    enable_nag(app)
    stack = ReviewflowStack(
        app, "Reviewflow", config=ReviewflowConfig.from_context(app.node), definition_file=ASL_FILE
    )
    sqs.Queue(stack, "PlainQueue")  # no TLS-only policy, no DLQ: two AwsSolutions findings
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    report = (tmp_path / "validation-report.json").read_text(encoding="utf-8")
    assert "AwsSolutions-SQS4" in report and "PlainQueue" in report
    # The real stack's own resources are not in the report: only the planted queue failed.
    assert "Reviewflow/Functions" not in report


def test_acknowledge_refuses_missing_reasons_and_foreign_rules() -> None:
    import aws_cdk as cdk

    from stacks.nag import acknowledge

    stack = cdk.Stack(cdk.App(), "S")
    with pytest.raises(ValueError, match="real reason"):
        acknowledge(stack, "AwsSolutions-IAM5", "because")
    with pytest.raises(ValueError, match="not an AwsSolutions rule"):
        acknowledge(stack, "HIPAA.Security-X", "a long enough reason that explains why this is fine")
