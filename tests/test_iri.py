"""The RFC 3987 IRI check: what it accepts, where it says the problem is, and that the
engine accepts everything it accepts (a property test over the grammar itself)."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mqmkg.errors import InvalidIri
from mqmkg.iri import check_iri, is_iri, named_node


@pytest.mark.parametrize(
    "iri",
    [
        "https://w3id.org/mqmkg/id/karachi",
        "http://[::1]:8080/sparql",
        "http://[::ffff:1.2.3.4]/",
        "http://[v1.fe]/",
        "http://user:pw@host:80/p/a;b?q=1&r#frag/?",
        "urn:isbn:0451450523",
        "mailto:someone@example.org",
        "tag:a",
        "http://été.example/ünïcode?\ue000",
        "https://w3id.org/mqmkg/id/a%20b",
        "x:",
    ],
)
def test_iris_are_accepted(iri: str) -> None:
    assert check_iri(iri) == iri
    assert named_node(iri) == ox.NamedNode(iri)


@pytest.mark.parametrize(
    ("text", "position", "reason"),
    [
        ("https://w3id.org/mqmkg/id/a%zz", 27, "'%' must be followed by two hexadecimal digits"),
        ("http://[::1", 7, "brackets only enclose an IP literal host"),
        ("a:b#c#d", 5, "a second '#'"),
        ("kg:a\x00", 4, "U+0000"),
        ("https://w3id.org/mqmkg/id/a b", 27, "U+0020"),
        ("\x7f", 0, "starts with a scheme"),
        ("http://x/<a>", 9, "U+003C"),
        ('http://x/"', 9, "U+0022"),
        ("http://x/{", 9, "U+007B"),
        ("http://x/|", 9, "U+007C"),
        ("http://x/^", 9, "U+005E"),
        ("http://x/`", 9, "U+0060"),
        ("http://x/\\", 9, "U+005C"),
        ("http://x/\ufffd", 9, "U+FFFD"),
        ("http://x/\u202e", 9, "U+202E (RFC 3987 §4.1)"),
        ("http://x/a\u200f", 10, "U+200F"),
        ("http://[fe80::1%25eth0]/", 8, "not an IPv6 address"),
        ("http://[1.2.3.4]/", 8, "not an IPv6 address"),
        ("http://h:8a/", 5, "malformed"),
        ("http://x/\ue000", 5, "malformed"),  # private-use characters only in the query
        ("relative/path", 0, "starts with a scheme"),
        ("", 0, "starts with a scheme"),
    ],
)
def test_non_iris_are_refused_with_position_and_reason(text: str, position: int, reason: str) -> None:
    with pytest.raises(InvalidIri) as caught:
        check_iri(text)
    assert (caught.value.position, caught.value.text) == (position, text)
    assert reason in caught.value.reason
    assert not is_iri(text)


def _chars(ascii_chars: str) -> st.SearchStrategy[str]:
    """One IRI character: from ``ascii_chars``, a percent-encoded octet, or a ucschar."""
    return st.one_of(
        st.sampled_from(list(ascii_chars)),
        st.text("0123456789abcdefABCDEF", min_size=2, max_size=2).map("%".__add__),
        st.characters(min_codepoint=0xA0, max_codepoint=0xD7FF).filter(lambda c: not 0x200E <= ord(c) <= 0x202E),
        st.characters(min_codepoint=0x10000, max_codepoint=0x1FFFD),
    )


def _string(chars: st.SearchStrategy[str], max_size: int) -> st.SearchStrategy[str]:
    return st.lists(chars, max_size=max_size).map("".join)


_UNRESERVED = "abcXYZ019-._~"
_SUB_DELIMS = "!$&'()*+,;="
_PCHAR = _chars(_UNRESERVED + _SUB_DELIMS + ":@")
_HOSTS = st.one_of(
    _string(_chars(_UNRESERVED + _SUB_DELIMS), 12),
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(lambda ip: f"[{ip}]"),
    st.just("[v7.a:b]"),
)
_AUTHORITY = st.tuples(
    st.one_of(st.just(""), _string(_chars(_UNRESERVED + _SUB_DELIMS + ":"), 6).map(lambda u: u + "@")),
    _HOSTS,
    st.one_of(st.just(""), st.integers(0, 65535).map(lambda n: f":{n}"), st.just(":")),
).map("".join)
_SEGMENTS = st.lists(_string(_PCHAR, 8), max_size=4).map(lambda parts: "".join("/" + p for p in parts))
GENERATED_IRIS = st.builds(
    lambda scheme, hier, query, fragment: f"{scheme}:{hier}{query}{fragment}",
    st.sampled_from(["http", "https", "urn", "x-y+z.1"]),
    st.one_of(_AUTHORITY.flatmap(lambda a: _SEGMENTS.map(lambda p: "//" + a + p)), _SEGMENTS),
    st.one_of(st.just(""), _string(st.one_of(_PCHAR, st.sampled_from(["/", "?", "\ue000"])), 8).map("?".__add__)),
    st.one_of(st.just(""), _string(st.one_of(_PCHAR, st.sampled_from(["/", "?"])), 8).map("#".__add__)),
)


@settings(max_examples=400, deadline=None, derandomize=True)
@given(GENERATED_IRIS)
def test_the_engine_accepts_every_iri_the_grammar_accepts(text: str) -> None:
    """IRIs built from the RFC 3987 grammar pass the check and become pyoxigraph terms: no ValueError later."""
    assert check_iri(text) == text
    assert ox.NamedNode(text).value == text


@settings(max_examples=400, deadline=None, derandomize=True)
@given(st.text(max_size=60))
def test_any_text_is_either_an_iri_or_refused_cleanly(text: str) -> None:
    try:
        node = named_node(text)
    except InvalidIri as exc:
        assert 0 <= exc.position <= len(text)
    else:
        assert node.value == text
