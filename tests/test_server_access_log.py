"""The access log's escaping: no request can split, forge or colour a log line."""

from __future__ import annotations

import pytest

from mqmkg.server.access_log import access_line, escape_field


@pytest.mark.parametrize(
    ("raw", "logged"),
    [
        ("/plain/path", "/plain/path"),
        ("/x\r\nINFO: forged", "/x\\x0d\\x0aINFO: forged"),
        ("/\x00\x1b[31m\x7f", "/\\x00\\x1b[31m\\x7f"),
        ("/c1\x85\x9b", "/c1\\x85\\x9b"),
        ('/"quoted" \\ back', '/\\"quoted\\" \\\\ back'),
        ("/bidi\u202eevil\u2066", "/bidi\\u202eevil\\u2066"),
        ("/lines\u2028\u2029", "/lines\\u2028\\u2029"),
        ("/zero\u200bwidth\ufeff", "/zero\\u200bwidth\\ufeff"),
        ("/unassigned\U000e0080", "/unassigned\\U000e0080"),
        ("/karachi-\u06a9\u0631\u0627\u0686\u06cc", "/karachi-\u06a9\u0631\u0627\u0686\u06cc"),  # letters stay readable
    ],
)
def test_non_printable_characters_are_escaped(raw: str, logged: str) -> None:
    assert escape_field(raw) == logged
    assert escape_field(raw).isprintable()


def test_every_field_of_a_line_is_escaped() -> None:
    line = access_line("10.0.0.1\x85", "GE\nT", "/a\rb", "200\x00", "3\n", 'x"y', 1.25)
    assert line == '10.0.0.1\\x85 "GE\\x0aT /a\\x0db" 200\\x00 rows=3\\x0a truncated=x\\"y ms=1.2'
    assert "\n" not in line and "\r" not in line
