"""Typed errors: chosen by code then status, carrying code, description, status and method."""

from __future__ import annotations

import pickle

import pytest

from b24kit.client import Client
from b24kit.client._errors import api_error
from b24kit.errors import (
    AccessDenied,
    ApiError,
    AuthError,
    B24Error,
    InsufficientScope,
    InvalidRequest,
    MethodNotFound,
    NotFound,
    OperationTimeLimit,
    QueryLimitExceeded,
    Retriable,
    ServerError,
    TokenExpired,
)

from .conftest import config, fast_retry, seed_deals, stats


@pytest.mark.parametrize(
    ("status", "code", "description", "expected"),
    [
        (401, "expired_token", "The access token provided has expired.", TokenExpired),
        (401, "NO_AUTH_FOUND", "Wrong authorization data", AuthError),
        (401, "invalid_token", "Unable to get application by token", AuthError),
        (403, "insufficient_scope", "", InsufficientScope),
        (403, "ACCESS_DENIED", "Access denied!", AccessDenied),
        (400, "ACCESS_DENIED", "Application context required", AccessDenied),
        (404, "ERROR_METHOD_NOT_FOUND", "Method not found!", MethodNotFound),
        (400, "NOT_FOUND", "Element not found", NotFound),
        (400, "", "Not found", NotFound),
        (400, "", "ID is not defined or invalid.", InvalidRequest),
        (400, "INVALID_ARG_VALUE", "Invalid filter", InvalidRequest),
        (503, "QUERY_LIMIT_EXCEEDED", "Too many requests", QueryLimitExceeded),
        (429, "OPERATION_TIME_LIMIT", "Method is blocked", OperationTimeLimit),
        (500, "INTERNAL_SERVER_ERROR", "Internal server error", ServerError),
        (503, "OVERLOAD_LIMIT", "REST API is blocked due to overload", ServerError),
        (502, "SOMETHING_NEW", "", ServerError),
        (418, "SOMETHING_NEW", "", InvalidRequest),
        (None, "100", "Task title is not specified", InvalidRequest),
    ],
)
def test_class_by_code_then_status(status, code, description, expected):
    error = api_error(status, {"error": code, "error_description": description}, "some.method")
    assert type(error) is expected
    assert (error.code, error.description, error.status, error.method) == (
        code,
        description,
        status,
        "some.method",
    )


def test_limits_and_server_errors_are_retriable_the_rest_are_not():
    assert isinstance(api_error(503, {"error": "QUERY_LIMIT_EXCEEDED"}, "x"), Retriable)
    assert isinstance(api_error(500, {"error": "INTERNAL_SERVER_ERROR"}, "x"), Retriable)
    assert not isinstance(api_error(400, {"error": ""}, "x"), Retriable)


def test_overload_was_refused_so_it_was_not_applied_but_a_500_may_have_been():
    assert api_error(503, {"error": "OVERLOAD_LIMIT"}, "x").maybe_applied is False
    assert api_error(500, {"error": "INTERNAL_SERVER_ERROR"}, "x").maybe_applied is True


def test_reset_time_read_from_the_description():
    error = api_error(
        429, {"error": "OPERATION_TIME_LIMIT", "error_description": "blocked. Reset at 1795358835"}, "m"
    )
    assert isinstance(error, OperationTimeLimit) and error.reset_at == 1795358835.0


def test_a_non_json_error_page_keeps_its_text():
    error = api_error(502, b"<html><body>Bad gateway</body></html>", "crm.deal.list")
    assert isinstance(error, ServerError) and "Bad gateway" in error.description


def test_errors_pickle_with_their_attributes():
    error = api_error(429, {"error": "OPERATION_TIME_LIMIT", "error_description": "Reset at 1700000000"}, "m")
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is OperationTimeLimit and isinstance(copy, B24Error)
    assert (copy.code, copy.status, copy.method, copy.reset_at, str(copy)) == (
        "OPERATION_TIME_LIMIT",
        429,
        "m",
        1700000000.0,
        str(error),
    )


def test_message_names_method_text_code_and_status():
    error = api_error(403, {"error": "insufficient_scope", "error_description": "Needs crm"}, "crm.deal.add")
    assert str(error) == "crm.deal.add: Needs crm (code 'insufficient_scope', HTTP 403)"


@pytest.mark.parametrize(
    ("method", "params", "expected", "code", "status"),
    [
        ("crm.deal.get", {"id": 12345}, NotFound, "", 400),
        ("no.such.method", {}, MethodNotFound, "ERROR_METHOD_NOT_FOUND", 404),
        ("crm.deal.add", {}, InvalidRequest, "", 400),
        ("app.info", {}, AccessDenied, "ACCESS_DENIED", 400),
    ],
)
def test_portal_errors_over_http_keep_code_description_status_method(
    emulator, method, params, expected, code, status
):
    with Client(config(emulator)) as b24, pytest.raises(expected) as raised:
        b24.call(method, params)
    error = raised.value
    assert (error.code, error.status, error.method) == (code, status, method)
    assert error.description


def test_wrong_webhook_secret_is_an_auth_error(emulator):
    url = emulator.webhook_url.replace("/secret/", "/wrong/")
    with Client.from_url(url) as b24, pytest.raises(AuthError) as raised:
        b24.call("profile")
    assert raised.value.code == "NO_AUTH_FOUND" and raised.value.status == 401
    assert "wrong" not in str(raised.value)


def test_injected_access_denied_is_typed(emulator):
    emulator.admin("faults", {"method": "crm.deal.list", "error": "ACCESS_DENIED"})
    with Client(config(emulator)) as b24, pytest.raises(AccessDenied) as raised:
        b24.call("crm.deal.list")
    assert (raised.value.status, raised.value.description) == (403, "Access denied!")


def test_server_error_on_a_read_is_retried(emulator):
    seed_deals(emulator, 1)
    emulator.admin("faults", {"method": "crm.deal.get", "error": "500", "times": 2})
    with Client(config(emulator, retry=fast_retry())) as b24:
        assert b24.call("crm.deal.get", {"id": 1})["ID"] == "1"
        assert b24.stats.retries == 2
    assert stats(emulator)["status_500"] == 2


def test_server_error_on_a_write_is_raised_not_repeated(emulator):
    emulator.admin("faults", {"method": "crm.deal.add", "error": "500", "times": 1})
    with Client(config(emulator, retry=fast_retry())) as b24, pytest.raises(ServerError) as raised:
        b24.call("crm.deal.add", {"fields": {"TITLE": "x"}})
    assert raised.value.maybe_applied and raised.value.status == 500
    assert len(emulator.admin("calls?method=crm.deal.add")) == 1


def test_a_write_marked_idempotent_is_repeated(emulator):
    seed_deals(emulator, 1)
    emulator.admin("faults", {"method": "crm.deal.update", "error": "500", "times": 1})
    with Client(config(emulator, retry=fast_retry())) as b24:
        assert b24.call("crm.deal.update", {"id": 1, "fields": {"TITLE": "y"}}, idempotent=True) is True
    assert emulator.portal.table("crm_deal").get(1)["TITLE"] == "y"


def test_query_limit_is_retried_even_for_writes_it_was_never_run(emulator):
    emulator.admin("faults", {"method": "crm.deal.add", "error": "QUERY_LIMIT_EXCEEDED", "times": 2})
    with Client(config(emulator, retry=fast_retry())) as b24:
        new_id = b24.call("crm.deal.add", {"fields": {"TITLE": "x"}})
        assert b24.stats.query_limit_hits == 2
    assert [d["ID"] for d in emulator.portal.table("crm_deal")] == [new_id]


def test_retries_give_up_with_the_last_error(emulator):
    emulator.admin("faults", {"method": "profile", "error": "500", "times": 10})
    with Client(config(emulator, retry=fast_retry())) as b24, pytest.raises(ServerError):
        b24.call("profile")
    assert stats(emulator)["status_500"] == fast_retry().attempts


def test_every_portal_error_is_an_api_error_and_a_b24_error(emulator):
    with Client(config(emulator)) as b24, pytest.raises(ApiError) as raised:
        b24.call("crm.deal.get", {"id": 1})
    assert isinstance(raised.value, B24Error)
