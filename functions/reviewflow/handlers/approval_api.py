"""Approval pages behind API Gateway (REST, proxy): ``GET`` shows, ``POST`` decides; and each
roster reviewer's queue (``GET /reviewers/<id>/queue``), which only shows.

The Powertools resolver is built on first use, not at import. Its debug mode stays off whatever
the environment says: it would print whole events, query-string secrets included.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from reviewflow.domain.approvals import decisions, queue
from reviewflow.domain.approvals.decisions import ApprovalView, View
from reviewflow.domain.approvals.forms import HttpRequest
from reviewflow.errors import ReviewflowError
from reviewflow.observability import describe_unexpected, get_logger, lambda_entry
from reviewflow.presentation import pages
from reviewflow.presentation.queue_page import render_queue
from reviewflow.providers import registry

if TYPE_CHECKING:  # pragma: no cover - imports for type checkers only
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response


def _html(page: pages.Page) -> Response[str]:
    from aws_lambda_powertools.event_handler import Response

    return Response(
        status_code=page.status, content_type=pages.HTML_CONTENT_TYPE, body=page.body, headers=page.headers
    )


def _response(view: ApprovalView) -> Response[str]:
    return _html(pages.render(view))


def _queue_response(view: queue.QueueView) -> Response[str]:
    return _html(render_queue(view))


def _http_request(app: APIGatewayRestResolver, approval_id: str) -> HttpRequest:
    event = app.current_event
    headers = event.headers  # case-insensitive
    query = event.query_string_parameters or {}
    return HttpRequest(
        approval_id=approval_id,
        secret=query.get("s"),
        body=event.decoded_body if event.http_method == "POST" else None,
        content_type=headers.get("content-type"),
        host=headers.get("host"),
        origin=headers.get("origin"),
        sec_fetch_site=headers.get("sec-fetch-site"),
        source_ip=event.request_context.identity.source_ip,
        user_agent=headers.get("user-agent"),
    )


@functools.cache
def _app() -> APIGatewayRestResolver:
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver
    from aws_lambda_powertools.event_handler.exceptions import NotFoundError

    app = APIGatewayRestResolver(debug=False)

    @app.get("/approvals/<approval_id>")
    def show(approval_id: str) -> Response[str]:
        return _response(
            decisions.show_approval(_http_request(app, approval_id), store=registry.approval_store())
        )

    @app.post("/approvals/<approval_id>")
    def decide(approval_id: str) -> Response[str]:
        return _response(
            decisions.decide_approval(
                _http_request(app, approval_id),
                store=registry.approval_store(),
                workflow=registry.workflow_client(),
                toxicity=registry.reply_toxicity_provider(),
                policy=registry.reply_policy(),
            )
        )

    @app.get("/reviewers/<reviewer_id>/queue")
    def show_queue(reviewer_id: str) -> Response[str]:
        query = app.current_event.query_string_parameters or {}
        request = queue.QueueRequest(
            reviewer_id=reviewer_id, approval_id=query.get("a"), secret=query.get("s")
        )
        return _queue_response(
            queue.show_queue(request, store=registry.approval_store(), queue=registry.reviewer_queue())
        )

    @app.exception_handler(NotFoundError)
    def unknown_route(_exc: Exception) -> Response[str]:
        return _response(ApprovalView(View.NOT_FOUND, 404))

    @app.exception_handler(Exception)
    def unexpected(exc: Exception) -> Response[str]:
        get_logger().error("approval page failed", extra=describe_unexpected(exc))
        if isinstance(exc, ReviewflowError) and exc.retryable:
            return _response(ApprovalView(View.TRY_AGAIN, 503))
        return _response(ApprovalView(View.SERVER_ERROR, 500))

    return app


@lambda_entry
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _app().resolve(event, context)
