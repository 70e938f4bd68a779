"""The OpenAPI document: one operation id per operation, so FastAPI has nothing to warn about."""

from __future__ import annotations

import warnings

from conftest import ENDPOINT_ROOT
from mqmkg.config import Settings
from mqmkg.server.app import create_app


def test_operation_ids_are_unique_and_fastapi_does_not_warn() -> None:
    app = create_app(Settings(root=ENDPOINT_ROOT, workers=1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # FastAPI's "Duplicate Operation ID" is a UserWarning
        spec = app.openapi()
    operations = [
        (path, method, op["operationId"]) for path, ops in spec["paths"].items() for method, op in ops.items()
    ]
    ids = [op_id for _, _, op_id in operations]
    assert len(ids) == len(set(ids)), sorted(ids)
    export = {method: op_id for path, method, op_id in operations if path == "/export/{name}"}
    assert export == {"get": "download_export"}  # HEAD is answered for every GET route (server/methods.py)
