"""Deploys the synthesized template into moto and finds what it created.

The template is the unmodified ``cdk synth`` output: its assets go to the bootstrap bucket the
template names, the bootstrap-version parameter its rule checks is put in place, and the stack is
``create_stack``ed. What it created is then found by resource type and by the role each resource
plays (the rule that sends ``NEW_REVIEW_POSTED`` to the review state machine, the state machine
that invokes ``prepare_evaluation``, the table, topic and bucket the functions are configured
with), never by a name, so renaming a construct changes nothing.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reviewflow.contracts import DEFAULT_INPUT_SOURCE, INPUT_DETAIL_TYPE, REVIEWER_ATTRIBUTE, EnvVar
from reviewflow_local.synth import CloudAssembly

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
BOOTSTRAP_VERSION_PARAMETER = "/cdk-bootstrap/hnb659fds/version"
BOOTSTRAP_VERSION = "30"
REQUEST_APPROVAL_HANDLER = "reviewflow.handlers.request_approval.handler"
PREPARE_EVALUATION_HANDLER = "reviewflow.handlers.prepare_evaluation.handler"
EVALUATE_CASE_HANDLER = "reviewflow.handlers.evaluate_case.handler"
DEFAULT_STAGE = "prod"

#: ``client("sqs")`` -> a boto3 client against moto (one per service, shared).
ClientFactory = Callable[[str], Any]


class LocalPipelineError(RuntimeError):
    """The template did not deploy, or does not hold the pipeline the local runtime drives."""


@dataclass
class StackResources:
    """Physical ids of what the template created, found by type and role, never by name."""

    stack_id: str
    bus_name: str
    input_source: str
    state_machine_arn: str
    table_name: str
    reviewer_topic_arn: str
    reviewer_email: str | None
    rest_api_id: str
    stage: str
    dead_letter_queue_urls: list[str]
    functions: dict[str, str]  # handler -> function name
    function_environments: dict[str, dict[str, str]] = field(default_factory=dict)  # by handler
    outputs: dict[str, str] = field(default_factory=dict)
    evaluation_state_machine_arn: str = ""  # the evaluation suite's workflow, and its bucket
    evaluation_bucket: str = ""
    # The roster (reviewer id -> email), read from the reviewer topic's filtered subscriptions.
    reviewer_emails: dict[str, str] = field(default_factory=dict)

    @property
    def execution_arn_prefix(self) -> str:
        """What every execution id of the state machine starts with."""
        return self.state_machine_arn.replace(":stateMachine:", ":execution:", 1) + ":"


def deploy(assembly: CloudAssembly, stack_name: str, client: ClientFactory) -> StackResources:
    """Upload the assets, create the stack, and return what it created (moto must be on)."""
    client("ssm").put_parameter(
        Name=BOOTSTRAP_VERSION_PARAMETER, Value=BOOTSTRAP_VERSION, Type="String", Overwrite=True
    )
    upload_assets(assembly, client("s3"))
    cloudformation = client("cloudformation")
    stack_id = cloudformation.create_stack(
        StackName=stack_name,
        TemplateBody=json.dumps(assembly.template),
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
    )["StackId"]
    stack = cloudformation.describe_stacks(StackName=stack_id)["Stacks"][0]
    if stack["StackStatus"] != "CREATE_COMPLETE":
        raise LocalPipelineError(f"stack ended {stack['StackStatus']}: {stack.get('StackStatusReason')}")
    return find_resources(assembly.template, stack, client)


def upload_assets(assembly: CloudAssembly, s3: Any) -> None:
    """Every file asset to the bucket and key its manifest names (folders zipped like the CLI)."""
    buckets: set[str] = set()
    for asset in assembly.assets.get("files", {}).values():
        source = _source_path(assembly, asset)
        if source.name.endswith(".template.json"):
            continue  # the template itself goes to create_stack
        body = _zip_folder(source) if asset["source"].get("packaging") == "zip" else source.read_bytes()
        for destination in asset["destinations"].values():
            bucket = _substitute(destination["bucketName"])
            if bucket not in buckets:
                s3.create_bucket(Bucket=bucket)
                buckets.add(bucket)
            s3.put_object(Bucket=bucket, Key=destination["objectKey"], Body=body)


def code_paths(assembly: CloudAssembly) -> list[Path]:
    """Source folders of the zip assets: the in-process runner imports handlers from there."""
    paths = [
        _source_path(assembly, asset)
        for asset in assembly.assets.get("files", {}).values()
        if asset["source"].get("packaging") == "zip"
    ]
    return list(dict.fromkeys(paths))


def find_resources(template: dict[str, Any], stack: dict[str, Any], client: ClientFactory) -> StackResources:
    """What the stack created, by the part each resource plays in the pipeline."""
    kinds = _ResourcesByType(template["Resources"], _physical_ids(client("cloudformation"), stack["StackId"]))
    state_machines = kinds.physical("AWS::StepFunctions::StateMachine")
    state_machine_arn, bus_name, input_source, dead_letter_queues = _input_route(
        client, kinds.physical("AWS::Events::EventBus"), state_machines
    )
    functions, environments = _functions(client("lambda"), kinds.physical("AWS::Lambda::Function"))
    evaluation_arn = _invoking(
        client("stepfunctions"), state_machines, functions.get(PREPARE_EVALUATION_HANDLER, "")
    )
    approval_env = environments.get(REQUEST_APPROVAL_HANDLER, {})
    topic_arn = approval_env.get(EnvVar.NOTIFICATION_TOPIC_ARN, "")
    tables = kinds.physical("AWS::DynamoDB::Table")
    rest_api_id = next(iter(kinds.physical("AWS::ApiGateway::RestApi")), "")
    return StackResources(
        stack_id=stack["StackId"],
        bus_name=bus_name,
        input_source=input_source,
        state_machine_arn=state_machine_arn,
        table_name=approval_env.get(EnvVar.APPROVALS_TABLE) or next(iter(tables), ""),
        reviewer_topic_arn=topic_arn,
        reviewer_email=_reviewer_email(client("sns"), topic_arn) if topic_arn else None,
        reviewer_emails=_roster_emails(client("sns"), topic_arn) if topic_arn else {},
        rest_api_id=rest_api_id,
        stage=_stage(client("apigateway"), rest_api_id, kinds.physical("AWS::ApiGateway::Stage")),
        dead_letter_queue_urls=dead_letter_queues,
        functions=functions,
        function_environments=environments,
        outputs={o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])},
        evaluation_state_machine_arn=evaluation_arn,
        evaluation_bucket=environments.get(EVALUATE_CASE_HANDLER, {}).get(EnvVar.EVALUATION_BUCKET, ""),
    )


@dataclass(frozen=True)
class _ResourcesByType:
    template: dict[str, Any]
    physical_ids: dict[str, str]

    def physical(self, kind: str) -> list[str]:
        return [self.physical_ids[logical] for logical, spec in self.template.items() if spec["Type"] == kind]


def _physical_ids(cloudformation: Any, stack_id: str) -> dict[str, str]:
    return {
        summary["LogicalResourceId"]: summary.get("PhysicalResourceId", "")
        for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack_id)
        for summary in page["StackResourceSummaries"]
    }


def _input_route(
    client: ClientFactory, bus_names: list[str], state_machine_arns: list[str]
) -> tuple[str, str, str, list[str]]:
    """The state machine a rule sends reviews to, that rule's bus, the source it matches, its DLQs."""
    events = client("events")
    for name in bus_names:
        for rule in events.list_rules(EventBusName=name)["Rules"]:
            pattern = json.loads(rule.get("EventPattern") or "{}")
            if INPUT_DETAIL_TYPE not in pattern.get("detail-type", []):
                continue
            targets = events.list_targets_by_rule(Rule=rule["Name"], EventBusName=name)["Targets"]
            for target in targets:
                if target["Arn"] in state_machine_arns:
                    source = pattern.get("source", [DEFAULT_INPUT_SOURCE])[0]
                    return target["Arn"], name, source, _dead_letter_queue_urls(client("sqs"), targets)
    raise LocalPipelineError(f"no rule on a custom bus sends {INPUT_DETAIL_TYPE} to a state machine")


def _invoking(stepfunctions: Any, state_machine_arns: list[str], function_name: str) -> str:
    """The state machine whose definition invokes ``function_name`` ("" when none does)."""
    for arn in state_machine_arns if function_name else []:
        definition = stepfunctions.describe_state_machine(stateMachineArn=arn)["definition"]
        if f':function:{function_name}"' in definition:
            return arn
    return ""


def _dead_letter_queue_urls(sqs: Any, targets: list[dict[str, Any]]) -> list[str]:
    arns = [t["DeadLetterConfig"]["Arn"] for t in targets if t.get("DeadLetterConfig", {}).get("Arn")]
    return [sqs.get_queue_url(QueueName=arn.split(":")[-1])["QueueUrl"] for arn in arns]


def _functions(lambda_client: Any, names: list[str]) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """Function name and environment variables of each handler."""
    functions: dict[str, str] = {}
    environments: dict[str, dict[str, str]] = {}
    for name in names:
        config = lambda_client.get_function_configuration(FunctionName=name)
        functions[config["Handler"]] = config["FunctionName"]
        environments[config["Handler"]] = config.get("Environment", {}).get("Variables", {})
    return functions, environments


def _reviewer_email(sns: Any, topic_arn: str) -> str | None:
    subscriptions = sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    emails = [s["Endpoint"] for s in subscriptions if s["Protocol"] == "email"]
    return emails[-1] if emails else None


def _roster_emails(sns: Any, topic_arn: str) -> dict[str, str]:
    """Reviewer id -> email of each subscription filtered on one ``reviewer`` attribute value."""
    roster: dict[str, str] = {}
    for subscription in sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]:
        if subscription["Protocol"] != "email" or not subscription["SubscriptionArn"].startswith("arn:"):
            continue
        attributes = sns.get_subscription_attributes(SubscriptionArn=subscription["SubscriptionArn"])
        policy = json.loads(attributes["Attributes"].get("FilterPolicy") or "{}")
        allowed = policy.get(REVIEWER_ATTRIBUTE, [])
        if len(allowed) == 1 and isinstance(allowed[0], str):
            roster[allowed[0]] = subscription["Endpoint"]
    return roster


def _stage(apigateway: Any, rest_api_id: str, stages: list[str]) -> str:
    if not stages and rest_api_id:
        stages = [s["stageName"] for s in apigateway.get_stages(restApiId=rest_api_id)["item"]]
    return stages[0] if stages else DEFAULT_STAGE


def _source_path(assembly: CloudAssembly, asset: dict[str, Any]) -> Path:
    source = Path(asset["source"]["path"])
    return source if source.is_absolute() else assembly.directory / source


def _substitute(text: str) -> str:
    return (
        text.replace("${AWS::AccountId}", ACCOUNT_ID)
        .replace("${AWS::Region}", REGION)
        .replace("${AWS::Partition}", "aws")
    )


def _zip_folder(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                archive.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()
