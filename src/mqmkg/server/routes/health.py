"""``/health``: liveness, dataset size and worker pool state.

The pool checks each worker process it reports (a dead one is not counted as idle or busy,
and the pool replaces it), so ``/health`` says ``degraded`` with 503 as soon as no worker
can serve, not only after the next query fails.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from mqmkg.server.routes.sparql import EndpointDep
from mqmkg.sparql.pool import PoolStatus

router = APIRouter(tags=["service"])


@router.get("/health", summary="Liveness, triple counts and query workers")
async def health(endpoint: EndpointDep) -> JSONResponse:
    """Report the dataset's size and the worker pool (cheap: no query runs)."""
    status = endpoint.pool.status()
    snapshot = endpoint.snapshot
    ok = status.can_serve
    return JSONResponse(
        {
            "status": "ok" if ok else "degraded",
            "triples": snapshot.default_graph_triples,
            "quads": snapshot.quads,
            "graphs": len(snapshot.graphs),
            "workers": {
                "size": status.size,
                "idle": status.idle,
                "busy": status.busy,
                "starting": status.starting,
                "pids": list(status.pids),
                "replaced": status.replaced,
                "recycled": status.recycled,
                "dead": status.dead,
            },
            "isolation": _isolation(endpoint.pool.status(), endpoint.pool.status(network=True)),
        },
        status_code=200 if ok else 503,
    )


def _isolation(local: PoolStatus, federated: PoolStatus) -> dict[str, object]:
    """Say how query workers are cut off from the network (kernel-enforced or not)."""
    return {
        "workers": local.isolation or "not reported yet",
        "federated_workers": {"size": federated.size, "idle": federated.idle, "pids": list(federated.pids)}
        | {"network": federated.isolation or ("none configured" if not federated.size else "not reported yet")},
    }
