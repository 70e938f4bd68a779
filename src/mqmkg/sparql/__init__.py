"""The SPARQL 1.1 Protocol endpoint, independent of the web framework.

``protocol`` turns an HTTP request into a query request, ``conneg`` and ``formats`` pick
the result format, ``guard`` refuses what must never run (updates, SERVICE calls outside
the allow-list), ``pool`` runs queries in worker processes that can be killed at their
deadline, ``worker`` and ``results`` evaluate and serialise inside those processes, and
``endpoint`` ties them together for the server routes.
"""
