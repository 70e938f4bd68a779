"""``/health``: liveness, dataset size and worker pool state.

The pool checks each worker process it reports (a dead one is not counted as idle or busy,
and the pool replaces it), so ``/health`` says ``degraded`` with 503 as soon as no worker
can serve, not only after the next query fails.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from mqmkg.errors import BackendError
from mqmkg.server.routes.sparql import EndpointDep
from mqmkg.sparql.dataset import Snapshot
from mqmkg.sparql.pool import PoolStatus

router = APIRouter(tags=["service"])


@router.get("/health", summary="Liveness, triple counts and query workers")
def health(endpoint: EndpointDep) -> JSONResponse:
    """Report the dataset's size and the worker pool (cheap: no query runs).

    With ``--backend``, the backend is asked an empty ASK; while it does not answer, the
    status is ``degraded`` (503), so a load balancer takes this replica out of rotation.
    """
    status = endpoint.pool.status()
    try:
        snapshot: Snapshot | None = endpoint.snapshot
    except BackendError:
        snapshot = None
    cache = endpoint.cache.stats()
    ok = status.can_serve and snapshot is not None
    return JSONResponse(
        {
            "status": "ok" if ok else "degraded",
            "triples": snapshot.default_graph_triples if snapshot else None,
            "quads": snapshot.quads if snapshot else None,
            "graphs": len(snapshot.graphs) if snapshot else None,
            "backend": endpoint.settings.backend or None,
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
            "fingerprint": snapshot.fingerprint or None if snapshot else None,
            "cache": {
                "entries": cache.entries,
                "bytes": cache.bytes,
                "hits": cache.hits,
                "misses": cache.misses,
                "maxEntries": cache.max_entries,
                "maxBytes": cache.max_bytes,
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
