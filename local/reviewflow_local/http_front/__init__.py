"""The local HTTP front on 127.0.0.1: approval routes, the inbox, and an AWS endpoint.

- ``/<stage>/<path>`` (``routes``): the REST API deployed from the template. Routes, methods and
  their ``AWS_PROXY`` integrations are read from the (moto) API Gateway; a request becomes a REST
  proxy event for the integrated function, invoked through the (moto) Lambda API. moto's own
  API Gateway does not invoke proxy integrations, hence this front.
- ``/`` and ``/outbox/<file>`` (``inbox``): the local reviewer's inbox and the emails it lists.
- With ``aws_app`` (``reviewflow serve``; ``moto_server_app()``), any request signed like an AWS
  API call goes to moto's own server application, which shares this process's backends, so
  ``aws --endpoint-url http://127.0.0.1:<port> events put-events ...`` reaches the local bus.

``server`` runs it all on a threaded Werkzeug server, and every request whose ``Host`` is not
this server's own address (``127.0.0.1:<port>`` or ``localhost:<port>``) is refused with
``421 Misdirected Request`` before anything else looks at it: that is what stops a web page
that rebinds its DNS name to 127.0.0.1 from reading the inbox or calling the AWS endpoint.
"""

from __future__ import annotations

from reviewflow_local.http_front.inbox import (
    APPROVALS_TABLE_VARIABLE,
    EMAIL_VIEW_HEADERS,
    INBOX_ATTRIBUTES,
    INBOX_HEADERS,
)
from reviewflow_local.http_front.routes import Route, read_routes
from reviewflow_local.http_front.server import (
    HttpFront,
    WsgiApp,
    allowed_hosts,
    moto_server_app,
    wait_until_listening,
)

__all__ = [
    "APPROVALS_TABLE_VARIABLE",
    "EMAIL_VIEW_HEADERS",
    "INBOX_ATTRIBUTES",
    "INBOX_HEADERS",
    "HttpFront",
    "Route",
    "WsgiApp",
    "allowed_hosts",
    "moto_server_app",
    "read_routes",
    "wait_until_listening",
]
