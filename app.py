#!/usr/bin/env python3
"""CDK entry point: ``cdk synth`` / ``cdk deploy`` (see cdk.json), or ``python app.py`` with the
context the CLI passes (CDK_CONTEXT_JSON, CDK_OUTDIR)."""

from __future__ import annotations

import aws_cdk as cdk

from stacks.config import ReviewflowConfig
from stacks.nag import enable_nag
from stacks.reviewflow_stack import ReviewflowStack

STACK_NAME = "Reviewflow"


def build_app(app: cdk.App | None = None) -> tuple[cdk.App, ReviewflowStack]:
    app = app or cdk.App()
    config = ReviewflowConfig.from_context(app.node)
    enable_nag(app)
    stack = ReviewflowStack(app, STACK_NAME, config=config)
    return app, stack


if __name__ == "__main__":
    built, _ = build_app()
    built.synth()
