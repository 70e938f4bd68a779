"""Schemathesis hooks for tests/test_server_schemathesis.py (named in tests/schemathesis.toml).

An ``application/sparql-query`` body is UTF-8 text, so it is sent as ``text/plain`` would be.
"""

import schemathesis

schemathesis.serializer.alias("application/sparql-query", "text/plain")
