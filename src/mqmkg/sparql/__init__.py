"""The SPARQL 1.1 Protocol endpoint, independent of the web framework.

``protocol`` turns an HTTP request into a query request, ``conneg`` and ``formats`` pick
the result format, ``guard`` refuses what must never run (updates, queries too deep for the
engine, SERVICE calls outside the allow-list) reading the text as the engine does with
``lexer`` and ``iri``, ``pool`` runs queries in worker processes that can be killed at their
deadline and that ``isolation`` cuts off the network, ``worker`` and ``results`` evaluate
and serialise inside those processes, and ``endpoint`` ties them together for the server
routes.
"""
