"""CloudFormation: what moto's stack deployment misses in the template CDK synthesizes."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from reviewflow_local.moto_patches._support import MotoInternalsChanged, require


def patch_cfn_refs() -> None:
    """moto lacks: ``Ref`` of an ``AWS::Events::EventBus`` and of an ``AWS::ApiGateway::Deployment``.

    Neither moto model has a ``physical_resource_id``, so ``Ref`` resolves to the Python object:
    the first rule on the bus fails, and a stage built on the deployment cannot be described.
    The patch gives them the bus name and the deployment id, as AWS does.
    """
    from moto.apigateway.models import Deployment
    from moto.events.models import EventBus

    for model in (EventBus, Deployment):
        if "physical_resource_id" in vars(model):
            raise MotoInternalsChanged(
                f"moto's {model.__name__} now has physical_resource_id: drop this patch"
            )
    EventBus.physical_resource_id = property(lambda self: self.name)  # type: ignore[attr-defined]
    Deployment.physical_resource_id = property(lambda self: self.id)  # type: ignore[attr-defined]


def _resolve_definition(properties: dict[str, Any], account_id: str, region_name: str) -> str:
    definition = properties.get("DefinitionString")
    if isinstance(definition, dict):
        definition = json.dumps(definition)
    if not definition and "Definition" in properties:
        definition = json.dumps(properties["Definition"])
    if not definition and "DefinitionS3Location" in properties:
        from moto.s3.models import s3_backends
        from moto.utilities.utils import get_partition

        location = properties["DefinitionS3Location"]
        s3 = s3_backends[account_id][get_partition(region_name)]
        definition = s3.get_object(location["Bucket"], location["Key"]).value.decode("utf-8")  # type: ignore[union-attr]
    if not definition:
        raise ValueError("state machine has no DefinitionString, Definition or DefinitionS3Location")
    for key, value in (properties.get("DefinitionSubstitutions") or {}).items():
        definition = definition.replace("${" + key + "}", str(value))
    return str(definition)


def patch_cfn_state_machine() -> None:
    """moto lacks: a CloudFormation state machine the interpreter can run, as CDK writes it.

    moto's ``StateMachine.create_from_cloudformation_json`` reads only ``DefinitionString``
    (CDK's ``DefinitionBody.from_file`` writes ``DefinitionS3Location``), ignores
    ``DefinitionSubstitutions`` and ``StateMachineType``, and creates the machine in the plain
    backend even when ``execute_state_machine`` is on, so executions never run. The patch
    resolves the definition (S3 asset + substitutions) and creates it in the executing backend.
    """
    from moto.stepfunctions.models import StateMachine
    from moto.stepfunctions.responses import get_backend as stepfunctions_backend
    from moto.stepfunctions.utils import cfn_to_api_tags

    require(StateMachine, "create_from_cloudformation_json")
    require(StateMachine, "delete_from_cloudformation_json")

    def create(
        cls: Any,
        resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Any:
        properties = cloudformation_json["Properties"]
        backend = stepfunctions_backend(account_id, region_name)
        return backend.create_state_machine(
            properties.get("StateMachineName", resource_name),
            _resolve_definition(properties, account_id, region_name),
            properties.get("RoleArn", ""),
            tags=cfn_to_api_tags(properties.get("Tags", [])),
            loggingConfiguration=properties.get("LoggingConfiguration"),
            tracingConfiguration=properties.get("TracingConfiguration"),
            sm_type=properties.get("StateMachineType", "STANDARD"),
        )

    def delete(
        cls: Any, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str
    ) -> None:
        stepfunctions_backend(account_id, region_name).delete_state_machine(resource_name)

    StateMachine.create_from_cloudformation_json = classmethod(create)  # type: ignore[assignment,method-assign]
    StateMachine.delete_from_cloudformation_json = classmethod(delete)  # type: ignore[assignment,method-assign]


def patch_cfn_dynamodb_ttl() -> None:
    """moto lacks: ``TimeToLiveSpecification`` on a CloudFormation ``AWS::DynamoDB::Table``.

    moto creates the table but leaves TTL disabled; the patch applies the specification with
    the backend's own ``update_time_to_live`` so ``describe_time_to_live`` matches AWS.
    """
    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodb.models.table import Table

    original = require(Table, "create_from_cloudformation_json").__func__

    def create(
        cls: Any,
        resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Any:
        table = original(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        ttl = cloudformation_json["Properties"].get("TimeToLiveSpecification")
        if ttl:
            dynamodb_backends[account_id][region_name].update_time_to_live(table.name, ttl)
        return table

    Table.create_from_cloudformation_json = classmethod(create)  # type: ignore[assignment,method-assign]


@dataclass
class AcceptedResource:
    """A template resource moto has no model for, kept so ``Ref`` and the stack listing work."""

    logical_id: str
    resource_type: str
    properties: dict[str, Any]
    physical_resource_id: str

    def is_created(self) -> bool:
        return True


def register_cfn_types() -> None:
    """moto lacks: CloudFormation models for types CDK emits around our resources.

    Without a model moto skips the resource (a warning) yet reports ``CREATE_COMPLETE``, and a
    ``Ref`` to it resolves to nothing. Two of them matter locally and are created for real:
    ``AWS::SNS::Subscription`` (subscribe) and ``AWS::ApiGateway::Stage`` (the stage whose name
    is in the approval links). The others (``AWS::CDK::Metadata``, queue, topic and bucket policies,
    alarms, ...) have no local effect and are only recorded.
    """
    from moto.apigateway.models import apigateway_backends
    from moto.cloudformation import parsing
    from moto.core.common_models import CloudFormationModel
    from moto.sns.models import sns_backends

    for getter in ("get_model_list", "get_model_map", "get_name_type_map"):
        require(require(parsing, getter), "cache_clear")

    def create_subscription(props: dict[str, Any], account: str, region: str, logical_id: str) -> str:
        backend = sns_backends[account][region]
        subscription = backend.subscribe(props["TopicArn"], props["Endpoint"], props["Protocol"])
        return str(subscription.arn)

    def create_stage(props: dict[str, Any], account: str, region: str, logical_id: str) -> str:
        backend = apigateway_backends[account][region]
        stage = backend.create_stage(
            props["RestApiId"],
            props["StageName"],
            deploymentId=props["DeploymentId"],
            variables=props.get("Variables"),
            description=props.get("Description", ""),
            tracing_enabled=props.get("TracingEnabled"),
        )
        return str(stage.name)

    makers: dict[str, Callable[[dict[str, Any], str, str, str], str] | None] = {
        "AWS::SNS::Subscription": create_subscription,
        "AWS::ApiGateway::Stage": create_stage,
        "AWS::CDK::Metadata": None,
        "AWS::SQS::QueuePolicy": None,
        "AWS::S3::BucketPolicy": None,
        "AWS::SNS::TopicPolicy": None,
        "AWS::CloudWatch::Alarm": None,
        "AWS::CloudWatch::CompositeAlarm": None,
        "AWS::CloudWatch::Dashboard": None,
        "AWS::ApiGateway::Account": None,
        "AWS::Lambda::EventInvokeConfig": None,
        "AWS::ApiGateway::RequestValidator": None,
    }
    already = parsing.get_model_map()
    for resource_type, maker in makers.items():
        if resource_type in already:
            continue

        def create(
            cls: Any,
            resource_name: str,
            cloudformation_json: Any,
            account_id: str,
            region_name: str,
            _maker: Any = maker,
            _type: str = resource_type,
            **kwargs: Any,
        ) -> AcceptedResource:
            props = cloudformation_json.get("Properties", {})
            logical_id = kwargs.get("LogicalId", resource_name)
            physical = _maker(props, account_id, region_name, logical_id) if _maker else resource_name
            return AcceptedResource(logical_id, _type, props, physical)

        type(
            "Local" + resource_type.replace("::", ""),
            (CloudFormationModel,),
            {
                "cloudformation_type": staticmethod(lambda _t=resource_type: _t),
                "cloudformation_name_type": staticmethod(lambda: ""),
                "has_cfn_attr": classmethod(lambda cls, attr: True),
                "create_from_cloudformation_json": classmethod(create),
                "update_from_cloudformation_json": classmethod(
                    lambda cls, original_resource, *args, **kwargs: original_resource
                ),
                "delete_from_cloudformation_json": classmethod(lambda cls, *args, **kwargs: None),
                "is_created": lambda self: True,
            },
        )
    parsing.get_model_list.cache_clear()
    parsing.get_model_map.cache_clear()
    parsing.get_name_type_map.cache_clear()


@dataclass
class _EventsArnResource:
    """An EventBridge connection or API destination created from the template, for ``Fn::GetAtt``."""

    logical_id: str
    resource_type: str
    physical_resource_id: str
    arn: str

    def is_created(self) -> bool:
        return True

    def get_cfn_attribute(self, attribute_name: str) -> str:
        if attribute_name == "Arn":
            return self.arn
        from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

        raise UnformattedGetAttTemplateException()


def register_cfn_api_destinations() -> None:
    """moto lacks: CloudFormation models for ``AWS::Events::Connection`` and ``ApiDestination``.

    Without them a rule target's ``Fn::GetAtt [<destination>, Arn]`` fails the whole stack. The
    patch creates both in moto's EventBridge backend (which stores them; by default moto never
    calls an API destination, and ``reviewflow_local.storefront`` delivers instead) and answers
    ``Arn``. The connection's secret stays the template's dynamic reference, unresolved.
    """
    from moto.cloudformation import parsing
    from moto.core.common_models import CloudFormationModel
    from moto.events.models import EventsBackend, events_backends

    for getter in ("get_model_list", "get_model_map", "get_name_type_map"):
        require(require(parsing, getter), "cache_clear")
    require(EventsBackend, "create_connection")
    require(EventsBackend, "create_api_destination")

    def create_connection(props: dict[str, Any], name: str, account: str, region: str) -> str:
        connection = events_backends[account][region].create_connection(
            name=props.get("Name", name),
            description=props.get("Description", ""),
            authorization_type=props.get("AuthorizationType", "API_KEY"),
            auth_parameters=props.get("AuthParameters", {}),
        )
        return str(connection.arn)

    def create_destination(props: dict[str, Any], name: str, account: str, region: str) -> str:
        described = events_backends[account][region].create_api_destination(
            name=props.get("Name", name),
            description=props.get("Description", ""),
            connection_arn=props["ConnectionArn"],
            invocation_endpoint=props["InvocationEndpoint"],
            invocation_rate_limit_per_second=props.get("InvocationRateLimitPerSecond", 300),
            http_method=props["HttpMethod"],
        )
        return str(described["ApiDestinationArn"])

    makers = {"AWS::Events::Connection": create_connection, "AWS::Events::ApiDestination": create_destination}
    already = parsing.get_model_map()
    for resource_type, maker in makers.items():
        if resource_type in already:
            continue

        def create(
            cls: Any,
            resource_name: str,
            cloudformation_json: Any,
            account_id: str,
            region_name: str,
            _maker: Any = maker,
            _type: str = resource_type,
            **kwargs: Any,
        ) -> _EventsArnResource:
            props = cloudformation_json.get("Properties", {})
            name = resource_name[-64:]
            arn = _maker(props, name, account_id, region_name)
            return _EventsArnResource(kwargs.get("LogicalId", resource_name), _type, name, arn)

        type(
            "Local" + resource_type.replace("::", ""),
            (CloudFormationModel,),
            {
                "cloudformation_type": staticmethod(lambda _t=resource_type: _t),
                "cloudformation_name_type": staticmethod(lambda: "Name"),
                "has_cfn_attr": classmethod(lambda cls, attr: attr == "Arn"),
                "create_from_cloudformation_json": classmethod(create),
                "update_from_cloudformation_json": classmethod(
                    lambda cls, original_resource, *args, **kwargs: original_resource
                ),
                "delete_from_cloudformation_json": classmethod(lambda cls, *args, **kwargs: None),
                "is_created": lambda self: True,
            },
        )
    parsing.get_model_list.cache_clear()
    parsing.get_model_map.cache_clear()
    parsing.get_name_type_map.cache_clear()
