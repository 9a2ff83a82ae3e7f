"""The emulator answers over HTTP with the documented envelope."""

from __future__ import annotations


def test_profile_answers_with_result_and_time(b24_emulator):
    body = b24_emulator.rest("profile")
    assert body["result"]["ID"] == "1"
    assert body["result"]["ADMIN"] is True
    assert set(body["time"]) >= {"start", "finish", "duration", "processing", "date_start", "date_finish"}


def test_unknown_method_is_404_method_not_found(b24_emulator):
    response = b24_emulator.http.post(f"{b24_emulator.webhook_url}no.such.method", json={})
    assert response.status_code == 404
    assert response.json() == {"error": "ERROR_METHOD_NOT_FOUND", "error_description": "Method not found!"}
