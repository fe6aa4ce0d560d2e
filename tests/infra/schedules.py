"""What every scheduled job of the stack must look like in the template, asserted in one place:
an EventBridge schedule on the default bus invoking exactly its function with a bounded retry
policy, the one permission that lets EventBridge (that rule only) invoke it, and an alarm on the
function's errors that reaches the alarm topic."""

from __future__ import annotations

from typing import Any

from tests.infra.test_template import logical_id


def assert_schedule_invokes(
    template: dict[str, Any],
    *,
    rule: str,
    function: str,
    expression: str,
    max_event_age_seconds: int,
    retry_attempts: int,
) -> str:
    """The rule (logical id prefix ``rule``) runs on ``expression`` and invokes only the function
    (prefix ``function``) with the given retry policy; returns the rule's logical id."""
    fn = logical_id(template, "AWS::Lambda::Function", function)
    rule_id = logical_id(template, "AWS::Events::Rule", rule)
    props = template["Resources"][rule_id]["Properties"]
    assert props["ScheduleExpression"] == expression
    assert "EventPattern" not in props and "EventBusName" not in props  # the default bus's schedule
    (target,) = props["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [fn, "Arn"]}
    assert target["RetryPolicy"] == {
        "MaximumEventAgeInSeconds": max_event_age_seconds,
        "MaximumRetryAttempts": retry_attempts,
    }
    permissions = [
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Lambda::Permission"
        and r["Properties"]["FunctionName"] == {"Fn::GetAtt": [fn, "Arn"]}
    ]
    assert permissions == [
        {
            "Action": "lambda:InvokeFunction",
            "FunctionName": {"Fn::GetAtt": [fn, "Arn"]},
            "Principal": "events.amazonaws.com",
            "SourceArn": {"Fn::GetAtt": [rule_id, "Arn"]},
        }
    ]
    return rule_id


def assert_errors_alarm(template: dict[str, Any], *, function: str) -> dict[str, Any]:
    """Exactly one alarm on the function's (prefix ``function``) Lambda errors: the first error in
    five minutes fires it, a quiet period is not breaching, and it notifies the alarm topic."""
    fn = logical_id(template, "AWS::Lambda::Function", function)
    alarms = [
        a["Properties"]
        for a in template["Resources"].values()
        if a["Type"] == "AWS::CloudWatch::Alarm"
        and a["Properties"].get("MetricName") == "Errors"
        and a["Properties"].get("Dimensions") == [{"Name": "FunctionName", "Value": {"Ref": fn}}]
    ]
    assert len(alarms) == 1, alarms
    (alarm,) = alarms
    topic = logical_id(template, "AWS::SNS::Topic", "NotificationsAlarmTopic")
    assert {key: alarm[key] for key in alarm if key not in ("AlarmDescription", "Dimensions")} == {
        "AlarmActions": [{"Ref": topic}],
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "EvaluationPeriods": 1,
        "MetricName": "Errors",
        "Namespace": "AWS/Lambda",
        "Period": 300,
        "Statistic": "Sum",
        "Threshold": 1,
        "TreatMissingData": "notBreaching",
    }
    return alarm
