"""Parse a SPARQL 1.1 Protocol query request (§2.1) from raw HTTP parts.

Three operations are accepted: GET with ``query=``, POST form-encoded with ``query=`` in the
body, and POST with an ``application/sparql-query`` body (parameters in the URL). Anything
that would be an update (``update=``, ``using-graph-uri=``, ``application/sparql-update``)
is refused here, before a query engine sees it.

https://www.w3.org/TR/sparql11-protocol/#query-operation
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl

from mqmkg.errors import ProtocolError, UnsupportedMediaType, UpdateRefused

FORM = "application/x-www-form-urlencoded"
SPARQL_QUERY = "application/sparql-query"
SPARQL_UPDATE = "application/sparql-update"
UPDATE_PARAMS = ("update", "using-graph-uri", "using-named-graph-uri")
READ_ONLY = "this endpoint is read-only: SPARQL Update is not accepted (SPARQL 1.1 Protocol §2.2)"


@dataclass(frozen=True)
class HttpInput:
    """The parts of an HTTP request the protocol needs; built by the server route."""

    method: str
    query_string: bytes
    content_type: str | None
    body: bytes
    accept: str | None
    endpoint: str
    # The client's If-None-Match header: a matching ETag gets 304 (mqmkg.sparql.cache).
    if_none_match: str | None = None

    @property
    def url(self) -> str:
        """Return the URL the client asked for: the endpoint and the query string as sent."""
        query = self.query_string.decode("latin-1")
        return f"{self.endpoint}?{query}" if query else self.endpoint


@dataclass(frozen=True)
class QueryRequest:
    """A parsed request: a query (None asks for the service description) and its options."""

    query: str | None
    default_graphs: tuple[str, ...]
    named_graphs: tuple[str, ...]
    formats: tuple[str, ...]
    accept: str | None
    endpoint: str

    @property
    def has_dataset(self) -> bool:
        """Tell whether the request names its own RDF dataset (§2.1.4)."""
        return bool(self.default_graphs or self.named_graphs)


def parse_media_type(header: str | None) -> tuple[str | None, dict[str, str]]:
    """Split a Content-Type header into a lower-case media type and its parameters."""
    if header is None or not header.strip():
        return None, {}
    pieces = header.split(";")
    params: dict[str, str] = {}
    for piece in pieces[1:]:
        name, _, value = piece.partition("=")
        params[name.strip().lower()] = value.strip().strip('"')
    return pieces[0].strip().lower(), params


def _check_charset(params: dict[str, str], what: str) -> None:
    charset = params.get("charset")
    if charset is not None and charset.lower().replace("-", "") != "utf8":
        raise ProtocolError(f"{what} must be UTF-8 (SPARQL 1.1 Protocol §2.1.2), not charset={charset}")


def parse_params(raw: bytes, where: str) -> list[tuple[str, str]]:
    """Decode ``application/x-www-form-urlencoded`` pairs, refusing anything not UTF-8."""
    try:
        text = raw.decode("utf-8")
        return parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError as exc:
        raise ProtocolError(f"{where} is not valid UTF-8 (SPARQL 1.1 Protocol §2.1): {exc.reason}") from exc


def _values(pairs: list[tuple[str, str]], name: str) -> list[str]:
    return [value for key, value in pairs if key == name]


def _refuse_updates(pairs: list[tuple[str, str]]) -> None:
    for name in UPDATE_PARAMS:
        if _values(pairs, name):
            raise UpdateRefused(f"{READ_ONLY}; the request carries '{name}='")


def _single_query(pairs: list[tuple[str, str]], where: str) -> str:
    queries = _values(pairs, "query")
    if not queries:
        raise ProtocolError(f"no 'query' parameter in the {where}")
    if len(queries) > 1:
        raise ProtocolError(f"{len(queries)} 'query' parameters; the protocol allows exactly one")
    return _non_empty(queries[0])


def _non_empty(query: str) -> str:
    if not query.strip():
        raise ProtocolError("the query is empty")
    return query


def _request(query: str | None, pairs: list[tuple[str, str]], inp: HttpInput) -> QueryRequest:
    return QueryRequest(
        query=query,
        default_graphs=tuple(_values(pairs, "default-graph-uri")),
        named_graphs=tuple(_values(pairs, "named-graph-uri")),
        formats=tuple(_values(pairs, "format")),
        accept=inp.accept,
        endpoint=inp.endpoint,
    )


def parse_request(inp: HttpInput) -> QueryRequest:
    """Return the query request carried by an HTTP request, or raise a typed protocol error."""
    url_pairs = parse_params(inp.query_string, "the URL query string")
    _refuse_updates(url_pairs)
    if inp.method == "GET":
        queries = _values(url_pairs, "query")
        if not queries:
            return _request(None, url_pairs, inp)
        return _request(_single_query(url_pairs, "URL"), url_pairs, inp)
    if inp.method != "POST":
        raise ProtocolError(f"method {inp.method} is not a SPARQL query operation; use GET or POST")
    media_type, params = parse_media_type(inp.content_type)
    if media_type == SPARQL_UPDATE:
        raise UpdateRefused(f"{READ_ONLY}; the body is {SPARQL_UPDATE}")
    if media_type == FORM:
        _check_charset(params, "a form-encoded body")
        pairs = url_pairs + parse_params(inp.body, "the form-encoded body")
        _refuse_updates(pairs)
        return _request(_single_query(pairs, "form-encoded body"), pairs, inp)
    if media_type == SPARQL_QUERY:
        _check_charset(params, f"an {SPARQL_QUERY} body")
        if _values(url_pairs, "query"):
            raise ProtocolError(f"a 'query' parameter in the URL and a query in the {SPARQL_QUERY} body")
        try:
            text = inp.body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProtocolError(
                f"the {SPARQL_QUERY} body is not valid UTF-8 (SPARQL 1.1 Protocol §2.1.3): {exc.reason}"
            ) from exc
        return _request(_non_empty(text), url_pairs, inp)
    if media_type is None and not inp.body and _values(url_pairs, "query"):
        # An empty POST whose query is in the URL: treated like GET (as Fuseki and Oxigraph do).
        return _request(_single_query(url_pairs, "URL"), url_pairs, inp)
    offered = f"{FORM} or {SPARQL_QUERY}"
    if media_type is None:
        raise UnsupportedMediaType(f"a POST body needs a Content-Type: {offered}")
    raise UnsupportedMediaType(f"Content-Type {media_type} is not a SPARQL query body; use {offered}")
