"""The Starlette app: authentication, REST versions per mode, Jira's errors, and request counters."""

from __future__ import annotations

import base64
import binascii
import inspect
import json
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .catalog import User
from .errors import JiraError
from .render import View
from .state import JiraState
from .webhooks import Webhooks

NOT_AUTHENTICATED = "You are not authenticated. Authentication required to perform this operation."
_VERSIONS = {"server": ("2", "latest"), "cloud": ("2", "3", "latest")}


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any = None


@dataclass
class Call:
    """One request as a handler sees it: who calls, through which REST version, with what."""

    request: Request
    state: JiraState
    webhooks: Webhooks
    counts: Counter[str]
    user: User | None
    version: str  # "2" or "3"; "latest" reads as "2"

    @property
    def caller(self) -> User:
        if self.user is None:
            raise JiraError(401, [NOT_AUTHENTICATED])
        return self.user

    def require(self) -> User:
        """Refuse anonymous callers (everything but serverInfo needs a user)."""
        return self.caller

    @property
    def cloud(self) -> bool:
        return self.state.mode == "cloud"

    def view(self) -> View:
        return self.state.view(self.user, self.version)

    def arg(self, name: str) -> str:
        return str(self.request.path_params[name])

    def query(self, name: str, default: str | None = None) -> str | None:
        return self.request.query_params.get(name, default)

    def query_list(self, name: str) -> list[str]:
        return self.request.query_params.getlist(name)

    async def body(self) -> dict[str, Any]:
        raw = await self.request.body()
        if not raw.strip():
            return {}
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise JiraError(400, [f"Unexpected character in the JSON body: {exc}"]) from None
        if not isinstance(data, dict):
            raise JiraError(400, ["Can not deserialize the body: a JSON object is expected"])
        return data


Handler = Callable[[Call], Awaitable[Any] | Any]


def authenticate(state: JiraState, header: str | None) -> User | None:
    """The user behind ``Authorization``; ``None`` for anonymous; 401 for bad credentials.

    Server/DC: basic with username and password, or ``Bearer <personal access token>``.
    Cloud: basic with e-mail and API token only.
    """
    if not header:
        return None
    scheme, _, credentials = header.partition(" ")
    users = [u for u in state.catalog.users if u.active]
    found: User | None = None
    if scheme.lower() == "basic":
        try:
            login, _, secret = base64.b64decode(credentials).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            login, secret = "", ""
        if state.mode == "cloud":
            found = next(
                (u for u in users if u.email.lower() == login.lower() and u.api_token == secret), None
            )
        else:
            found = next((u for u in users if u.name.lower() == login.lower() and u.password == secret), None)
    elif scheme.lower() == "bearer" and state.mode == "server":
        found = next((u for u in users if u.pat == credentials.strip()), None)
    if found is None:
        raise JiraError(401, [NOT_AUTHENTICATED])
    return found


def endpoint(state: JiraState, webhooks: Webhooks, counts: Counter[str], path: str, handler: Handler) -> Any:
    async def serve(request: Request) -> Response:
        version = str(request.path_params.get("version", ""))
        if not path.startswith("/_fake"):
            counts[f"{request.method} {path.replace('{version}', version)}"] += 1
        try:
            if "{version}" in path and version not in _VERSIONS[state.mode]:
                return null_for_uri(request)
            user = authenticate(state, request.headers.get("authorization"))
            call = Call(request, state, webhooks, counts, user, "2" if version in ("", "latest") else version)
            result = handler(call)
            if inspect.isawaitable(result):
                result = await result
        except JiraError as exc:
            headers = {"X-Seraph-LoginReason": "AUTHENTICATED_FAILED"} if exc.status == 401 else None
            return JSONResponse(exc.body(), exc.status, headers=headers)
        if isinstance(result, Response):
            return result
        if isinstance(result, Reply):
            if result.body is None:
                return Response(status_code=result.status)
            return JSONResponse(result.body, result.status)
        return JSONResponse(result)

    return serve


def null_for_uri(request: Request) -> Response:
    return JSONResponse({"message": f"null for uri: {request.url}", "status-code": 404}, 404)


def create_app(
    state: JiraState,
    webhooks: Webhooks,
    counts: Counter[str],
    table: list[tuple[str, str, Handler]],
) -> Starlette:
    """``table`` rows are ``(method, path, handler)``; paths may hold ``{version}``."""
    routes = [
        Route(path, endpoint(state, webhooks, counts, path, handler), methods=[method])
        for method, path, handler in table
    ]

    async def missing(request: Request, exc: Exception) -> Response:
        return null_for_uri(request)

    return Starlette(routes=routes, exception_handlers={404: missing, 405: missing})
