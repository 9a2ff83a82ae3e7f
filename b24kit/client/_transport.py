"""The HTTP transport: fast-bitrix24's request handler, with b24kit's session and error mapping.

fast-bitrix24 (``ServerRequestHandler.request_attempt``) builds the URL, adds the ``auth``
token, POSTs the JSON and decodes the answer. b24kit switches off its pacing and retries (they
burst past the bucket and retry writes blindly), and gives it an aiohttp session whose
``raise_for_status`` hook reads the error body first, so a 4xx keeps the portal's code and text
(fast-bitrix24's own session raises a bare ``ClientResponseError`` and loses them).
"""

from __future__ import annotations

import asyncio
import json
import ssl
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from fast_bitrix24.__version__ import __version__ as FAST_BITRIX24_VERSION
from fast_bitrix24.srh import ServerRequestHandler

from b24kit.errors import ApiError, ServerError, TransportError

from ._errors import api_error
from ._log import SECRETS

USER_AGENT = f"b24kit/0.1 fast-bitrix24/{FAST_BITRIX24_VERSION} aiohttp/{aiohttp.__version__}"


class _Handler(ServerRequestHandler):  # type: ignore[misc]
    """fast-bitrix24's handler minus its own pacing: b24kit reserves bucket slots before calling."""

    @asynccontextmanager
    async def acquire(self, method: str) -> AsyncIterator[None]:
        yield

    def add_throttler_records(self, method: str, params: Any, json: Any) -> None:
        return None


async def _raise_for_status(response: aiohttp.ClientResponse) -> None:
    """Turn an error answer into a typed error *with* its body (code, description)."""
    if response.status < 400:
        return
    raw = await response.read()
    try:
        body: Any = json.loads(raw)
    except ValueError:
        body = raw
    raise api_error(response.status, body, method_of(str(response.url)))


async def _add_request_id(
    session: aiohttp.ClientSession, ctx: Any, params: aiohttp.TraceRequestStartParams
) -> None:
    params.headers.setdefault("X-Request-ID", uuid.uuid4().hex)


def method_of(url: str) -> str:
    """``.../rest/1/x/crm.deal.get.json`` -> ``crm.deal.get``."""
    name = url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1].lower()
    return name.removesuffix(".json")


class Transport:
    """One portal's HTTP session, opened on first use inside the running event loop."""

    def __init__(
        self, url: str, *, timeout: float, connect_timeout: float, verify_tls: bool | str = True
    ) -> None:
        self.url = url
        self.timeout = aiohttp.ClientTimeout(total=timeout, sock_connect=connect_timeout)
        self.verify_tls = verify_tls
        self._handler: _Handler | None = None
        self._session: aiohttp.ClientSession | None = None

    def _ssl(self) -> ssl.SSLContext | bool:
        if isinstance(self.verify_tls, str):
            return ssl.create_default_context(cafile=self.verify_tls)
        return self.verify_tls

    def _ensure(self) -> _Handler:
        if self._handler is None:
            trace = aiohttp.TraceConfig()
            trace.on_request_start.append(_add_request_id)
            self._session = aiohttp.ClientSession(
                raise_for_status=_raise_for_status,
                timeout=self.timeout,
                headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
                connector=aiohttp.TCPConnector(limit=64, ssl=self._ssl()),
                trace_configs=[trace],
            )
            self._handler = _Handler(
                webhook=self.url,
                token_func=None,
                respect_velocity_policy=False,
                request_pool_size=50,
                requests_per_second=2.0,
                operating_time_limit=480,
                client=self._session,
                ssl=self._ssl() if isinstance(self.verify_tls, str) else self.verify_tls,
            )
        return self._handler

    async def post(self, method: str, params: Mapping[str, Any], token: str | None) -> dict[str, Any]:
        """POST one REST call; the decoded answer, or a typed error."""
        handler = self._ensure()
        # request_attempt reads handler.token before its first await, so concurrent calls each
        # send the token set here (the auth goes in the JSON body, never in fast-bitrix24's logs).
        handler.token = token
        try:
            body = await handler.request_attempt(method, dict(params))
        except ApiError:
            raise
        except aiohttp.ContentTypeError as exc:
            raise ServerError(
                f"the portal answered {exc.status} with a non-JSON body",
                code="ERROR_UNEXPECTED_ANSWER",
                method=method,
                status=exc.status,
                maybe_applied=True,
            ) from None
        except aiohttp.ClientConnectorError as exc:
            raise TransportError(_describe(method, exc), method=method, maybe_applied=False) from None
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise TransportError(_describe(method, exc), method=method, maybe_applied=True) from None
        if not isinstance(body, dict):
            raise ServerError(
                "the portal answered with something other than a JSON object",
                code="ERROR_UNEXPECTED_ANSWER",
                method=method,
                status=200,
                maybe_applied=True,
            )
        if "error" in body and "result" not in body:
            raise api_error(200, body, method)
        return body

    async def get_json(self, url: str, query: Mapping[str, str]) -> dict[str, Any]:
        """GET a JSON document (the OAuth token endpoint); errors keep their body."""
        self._ensure()
        assert self._session is not None
        try:
            async with self._session.get(url, params=dict(query)) as response:
                body = await response.json(content_type=None)
        except ApiError:
            raise
        except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
            raise TransportError(_describe("oauth/token", exc), method="oauth/token") from None
        if not isinstance(body, dict):
            raise ServerError("the OAuth server answered with something other than a JSON object")
        return body

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None
        self._handler = None


def _describe(method: str, exc: BaseException) -> str:
    reason = str(exc) or type(exc).__name__
    if isinstance(exc, asyncio.TimeoutError):
        reason = "timed out"
    return SECRETS.mask(f"{method}: {type(exc).__name__}: {reason}")
