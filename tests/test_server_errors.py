"""The error map's last resorts: a bug is one logged traceback and a 500 problem document;
a client that hung up is a 499 with no traceback. Driven in-process through a small FastAPI
app with the map installed."""

from __future__ import annotations

import logging

import httpx
import pytest
from fastapi import FastAPI
from starlette.requests import ClientDisconnect

from conftest import run_async
from mqmkg.server.errors import install_error_handlers


def app_raising(exc: Exception) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/boom")
    def boom() -> None:
        raise exc

    return app


def get(app: FastAPI) -> httpx.Response:
    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            return await http.get("/boom")

    return run_async(call())


def test_a_bug_is_one_traceback_and_a_500_problem(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        response = get(app_raising(RuntimeError("a bug")))
    assert (response.status_code, response.headers["content-type"]) == (500, "application/problem+json")
    assert response.json()["error"] == "InternalError" and "a bug" not in response.text
    assert [r.getMessage() for r in caplog.records if r.exc_info] == ["unexpected error in GET '/boom'"]


def test_a_client_that_hung_up_is_499_without_traceback(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        response = get(app_raising(ClientDisconnect()))
    assert response.status_code == 499
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.WARNING]
