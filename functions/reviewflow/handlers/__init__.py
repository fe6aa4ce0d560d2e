"""Handlers: one thin Lambda entry point per module, ``reviewflow.handlers.<name>.handler``."""

#: Every handler module, in the order the workflow first reaches them (the approval API last but
#: one: it answers the reviewer's browser, not the workflow); then the evaluation workflow's.
HANDLER_MODULES: tuple[str, ...] = (
    "validate_review",
    "score_toxicity",
    "detect_sentiment",
    "generate_response",
    "check_reply",
    "request_approval",
    "approval_api",
    "build_outcome",
    "prepare_evaluation",
    "evaluate_case",
    "aggregate_evaluation",
    "extract_insights",
)
