"""Schemathesis hooks for scripts/api-tests.sh (loaded via SCHEMATHESIS_HOOKS).

An Idempotency-Key names one request: the ingress answers a second, different
request with the same key `422 idempotency_key_reused`, as it must. The
fuzzer reuses generated values (examples, shrinking, the coverage phase), so
every key the document calls valid is replaced by a fresh one before the
call. Keys the document calls invalid are sent as generated, so that their
refusal is still checked.
"""

import re
import uuid

import schemathesis

VALID_KEY = re.compile(r"^[!-~]{1,255}$")


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    headers = case.headers or {}
    for name, value in list(headers.items()):
        if name.lower() == "idempotency-key" and isinstance(value, str) and VALID_KEY.match(value):
            headers[name] = str(uuid.uuid4())
    return None
