"""The reviewer queue as synthesized: one GET route (no POST) only when there are known reviewers,
served by the approval function, whose one new grant is a Query on the pending index."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.infra.conftest import Synthesized, cdk_json_context, synthesize
from tests.infra.test_template import actions_on, logical_id, statements

ROSTER = '[{"id": "ana", "email": "ana@example.com"}, {"id": "bo", "email": "bo@example.com"}]'
ESCALATION = {
    "reviewflow:escalation_fraction": "0.8",
    "reviewflow:escalation_reviewers": '[{"id": "lead", "email": "lead@example.com"}]',
}


@pytest.fixture(scope="module")
def with_roster(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    context = cdk_json_context()
    context["reviewflow:reviewers"] = ROSTER
    return synthesize(tmp_path_factory.mktemp("queue-roster"), context)


def _paths(synthesized: Synthesized) -> dict[str, str]:
    """Logical id -> full path of every API resource."""
    resources = synthesized.resources("AWS::ApiGateway::Resource")
    root_ids = {json.dumps(r["Properties"]["ParentId"]) for r in resources.values()} - {
        json.dumps({"Ref": rid}) for rid in resources
    }
    assert len(root_ids) == 1  # one API, one root

    def path(rid: str) -> str:
        parent = resources[rid]["Properties"]["ParentId"]
        prefix = path(parent["Ref"]) if isinstance(parent, dict) and "Ref" in parent else ""
        return f"{prefix}/{resources[rid]['Properties']['PathPart']}"

    return {rid: path(rid) for rid in resources}


def _methods(synthesized: Synthesized) -> list[tuple[str, str]]:
    paths = _paths(synthesized)
    return sorted(
        (paths[m["Properties"]["ResourceId"]["Ref"]], m["Properties"]["HttpMethod"])
        for m in synthesized.resources("AWS::ApiGateway::Method").values()
    )


def test_with_a_roster_the_queue_is_one_get_route_on_the_approval_function(with_roster: Synthesized) -> None:
    assert _methods(with_roster) == [
        ("/approvals/{approval_id}", "GET"),
        ("/approvals/{approval_id}", "POST"),
        ("/reviewers/{reviewer_id}/queue", "GET"),
    ]
    approval_fn = logical_id(with_roster.template, "AWS::Lambda::Function", "FunctionsApprovalApi")
    paths = _paths(with_roster)
    (queue,) = [
        m["Properties"]
        for m in with_roster.resources("AWS::ApiGateway::Method").values()
        if paths[m["Properties"]["ResourceId"]["Ref"]].startswith("/reviewers")
    ]
    assert queue["Integration"]["Type"] == "AWS_PROXY" and approval_fn in json.dumps(
        queue["Integration"]["Uri"]
    )
    assert queue["RequestParameters"] == {"method.request.path.reviewer_id": True}
    assert queue["AuthorizationType"] == "NONE"


def test_the_queue_adds_only_a_query_on_the_pending_index_to_the_approval_function(
    with_roster: Synthesized,
) -> None:
    template = with_roster.template
    table = logical_id(template, "AWS::DynamoDB::Table", "ApprovalsTable")
    stmts = statements(template, "FunctionsApprovalApiRole")
    granted = actions_on(stmts)
    assert sorted(a for a in granted if a.startswith("dynamodb:")) == [
        "dynamodb:GetItem",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
    ]
    assert granted["dynamodb:Query"] == [
        {"Fn::Join": ["", [{"Fn::GetAtt": [table, "Arn"]}, "/index/PendingByDeadline"]]}
    ]
    query = next(s for s in stmts if s["Action"] == "dynamodb:Query")
    assert query["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["approval#*"]}}
    assert "dynamodb:Scan" not in granted


def test_without_known_reviewers_there_is_no_queue_route_and_no_query(synthesized: Synthesized) -> None:
    assert _methods(synthesized) == [
        ("/approvals/{approval_id}", "GET"),
        ("/approvals/{approval_id}", "POST"),
    ]
    assert "dynamodb:Query" not in actions_on(statements(synthesized.template, "FunctionsApprovalApiRole"))


def test_escalation_reviewers_alone_get_a_queue(tmp_path: Path) -> None:
    context: dict[str, Any] = {**cdk_json_context(), **ESCALATION}
    configured = synthesize(tmp_path, context)
    assert ("/reviewers/{reviewer_id}/queue", "GET") in _methods(configured)
    assert "dynamodb:Query" in actions_on(statements(configured.template, "FunctionsApprovalApiRole"))
