"""What the cost model cannot measure offline, stated once and printed with every result."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Assumptions:
    """Everything the model cannot measure offline. Printed with every result."""

    model_id: str = ""  # empty: pricing.json's default model
    toxicity_provider: str = "comprehend"  # or "guardrails": who scores reviews and replies
    chars_per_token: float = 4.0
    # The reply prompt the deployment uses (cdk.json) and the reply length it leads to: response/v1
    # asks for two to four sentences under 80 words (~480 characters, ~120 tokens); response/short-v1
    # for at most 300 characters, assumed written at 290 (a reply of 301-400 characters costs one
    # more Comprehend unit to check). Stated, not measured: no model runs offline.
    response_prompt_version: str = "v1"
    reply_chars: int = 480
    original_reply_chars: int = 480  # the original sample's reply: two to four sentences
    sentiment_output_tokens: int = 40  # {"sentiment": ..., "reason": "<one sentence>"}
    comprehend_latency_ms: float = 120.0
    guardrails_latency_ms: float = 250.0  # ApplyGuardrail, content filters only, standard tier
    bedrock_sentiment_latency_ms: float = 500.0
    bedrock_response_latency_ms: float = 1500.0
    bedrock_throttle_latency_ms: float = 50.0
    sdk_attempts_per_throttle: int = 2  # registry.aws_client: retries max_attempts=2
    dynamodb_latency_ms: float = 15.0
    sns_latency_ms: float = 30.0
    stepfunctions_latency_ms: float = 30.0
    approval_cpu_ms: float = 3.0  # request_approval / approval_api CPU per call (not measured offline)
    approval_item_kb: int = 3  # approval item with snapshot + task token: WRU per write
    lambda_platform_log_bytes: int = 300  # START / END / REPORT lines per invocation
    sfn_log_bytes_per_event: int = 350  # Level ALL, IncludeExecutionData false
    traces_per_execution: float = 1.0  # upper bound: the default sampling keeps 1/s + 5 %
    # The critical path (time from the input event to the outcome event on the auto path): what
    # Step Functions adds per state entered and what invoking a warm Lambda function adds.
    state_overhead_ms: float = 25.0
    lambda_invoke_overhead_ms: float = 20.0
    eventbridge_latency_ms: float = 30.0
    mix: tuple[tuple[str, float], ...] = (
        ("safe", 0.80),
        ("harmful", 0.05),
        ("human_review", 0.05),
        ("human_reply", 0.05),
        ("failed", 0.05),
    )


#: The reply length each response prompt version is assumed to produce (see ``Assumptions``).
REPLY_CHARS_BY_PROMPT = {"v1": 480, "short-v1": 290}
