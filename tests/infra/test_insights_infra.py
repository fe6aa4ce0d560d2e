"""The insight branch as synthesized: its table, its function's grants, the two Parallel states."""

from __future__ import annotations

import json
from typing import Any

from reviewflow.contracts import EnvVar
from stacks.config import DEFAULT_INSIGHTS_MODEL_ID
from tests.infra.conftest import ASL_FILE, Synthesized
from tests.infra.test_template import actions_on, logical_id, statements, walk_states


def _states() -> dict[str, dict[str, Any]]:
    return dict(walk_states(json.loads(ASL_FILE.read_text(encoding="utf-8"))["States"]))


def test_insights_table_has_product_keys_pitr_encryption_and_ttl(template: dict[str, Any]) -> None:
    table = template["Resources"][logical_id(template, "AWS::DynamoDB::Table", "InsightsTable")]
    props = table["Properties"]
    assert props["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert props["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}
    assert props["BillingMode"] == "PAY_PER_REQUEST" and table["DeletionPolicy"] == "Retain"


def test_the_function_writes_only_its_keys_publishes_on_the_bus_and_calls_its_own_model(
    template: dict[str, Any],
) -> None:
    fn = template["Resources"][logical_id(template, "AWS::Lambda::Function", "InsightsExtractInsights")]
    env = fn["Properties"]["Environment"]["Variables"]
    table = logical_id(template, "AWS::DynamoDB::Table", "InsightsTable")
    assert env[EnvVar.INSIGHTS_TABLE.value] == {"Ref": table}
    assert env[EnvVar.INSIGHTS_MODEL_ID.value] == DEFAULT_INSIGHTS_MODEL_ID
    assert env[EnvVar.INSIGHTS_MODEL_ID.value] != env[EnvVar.MODEL_ID.value]
    assert env[EnvVar.EVENT_BUS_NAME.value] == {
        "Ref": logical_id(template, "AWS::Events::EventBus", "EventsBus")
    }
    assert fn["Properties"]["Timeout"] == 15
    stmts = statements(template, "InsightsExtractInsightsRole")
    granted = actions_on(stmts)
    assert granted["dynamodb:PutItem"] == [{"Fn::GetAtt": [table, "Arn"]}]
    put = next(s for s in stmts if s["Action"] == "dynamodb:PutItem")
    assert put["Condition"] == {
        "ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["product#*", "products"]}
    }
    assert granted["events:PutEvents"] == [
        {"Fn::GetAtt": [logical_id(template, "AWS::Events::EventBus", "EventsBus"), "Arn"]}
    ]
    assert not any(a.startswith("dynamodb:") and a != "dynamodb:PutItem" for a in granted)
    bedrock = [r for a, rs in granted.items() if a.startswith("bedrock:") for r in rs]
    assert bedrock and all("nova-micro" in json.dumps(r) for r in bedrock)


def test_the_workflow_may_invoke_it_and_substitutes_its_arn(
    synthesized: Synthesized, template: dict[str, Any]
) -> None:
    fn = logical_id(template, "AWS::Lambda::Function", "InsightsExtractInsights")
    machine = template["Resources"][
        logical_id(template, "AWS::StepFunctions::StateMachine", "WorkflowStateMachine")
    ]
    assert machine["Properties"]["DefinitionSubstitutions"]["ExtractInsightsFunctionArn"] == {
        "Fn::GetAtt": [fn, "Arn"]
    }
    invoke = actions_on(statements(template, "WorkflowStateMachineRole"))["lambda:InvokeFunction"]
    assert {"Fn::GetAtt": [fn, "Arn"]} in invoke


def test_toxicity_runs_beside_a_speculative_sentiment() -> None:
    states = _states()
    screen = states["ScreenReview"]
    assert screen["Type"] == "Parallel"
    assert [b["StartAt"] for b in screen["Branches"]] == ["ScoreReviewToxicity", "DetectSentiment"]
    assert states["DetectSentiment"]["ResultPath"] == "$.speculative_sentiment"
    # Only a cleared review adopts it: the harmful path never reads it.
    assert states["ReviewToxicityBand"]["Default"] == "SentimentReady"
    assert states["AdoptSentiment"]["ResultPath"] == "$.sentiment"


def test_the_reply_runs_beside_the_insight_branch_which_cannot_fail_it() -> None:
    states = _states()
    answer = states["AnswerReview"]
    assert answer["Type"] == "Parallel" and answer["Next"] == "BuildOutcome"
    reply, insight = answer["Branches"]
    assert reply["StartAt"] == "GenerateResponse" and insight["StartAt"] == "ExtractInsights"
    targets = {
        target
        for state in reply["States"].values()
        for target in [state.get("Next"), state.get("Default")]
        + [c.get("Next") for c in state.get("Choices", []) + state.get("Catch", [])]
        if target
    }
    assert targets <= set(reply["States"])  # every reply path ends inside its branch
    extract = insight["States"]["ExtractInsights"]
    assert extract["TimeoutSeconds"] <= 30
    assert all(r["MaxAttempts"] <= 1 for r in extract["Retry"])
    assert [c["ErrorEquals"] for c in extract["Catch"]] == [["States.ALL"]]
    failed = insight["States"][extract["Catch"][0]["Next"]]
    assert failed["Type"] == "Pass" and failed.get("End") is True
    assert failed["Parameters"]["insights"]["status"] == "failed"
    assert "Catch" not in answer  # nothing in the insight branch can escape its catch-all
