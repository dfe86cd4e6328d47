"""Schemathesis hooks for `make test`: each operation gets the token its
`x-auth` asks for (a fresh anonymous storefront token, or the demo
customer's), the way a storefront would send it."""

import json
import os
import urllib.error
import urllib.request

import schemathesis

BASE = os.environ["ACCOUNTS_URL"]
TENANT, CLIENT = "demo", "storefront"
EMAIL, PASSWORD = "demo@example.com", "demo-password-2026"
_device = {}


def _call(method, path, token=None, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(BASE + path, data=data, method=method)
    request.add_header("content-type", "application/json")
    if token:
        request.add_header("authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        # Say why: an auth provider's failure otherwise shows only as 401s later.
        raise RuntimeError(f"{method} {path}: {error.code} {error.read()[:300]!r}") from None


def anonymous_token():
    return _call("GET", f"/customerlogin/auth/anonymous/login?tenant={TENANT}&client_id={CLIENT}")["access_token"]


def customer_token():
    body = {"email": EMAIL, "password": PASSWORD}
    # The device token keeps the demo account's own budget out of reach of
    # the wrong passwords the fuzzer sends to `me/password/change` and `DELETE me`.
    if "token" in _device:
        body["device_token"] = _device["token"]
    answer = _call("POST", f"/customer/{TENANT}/login", anonymous_token(), body)
    _device["token"] = answer["device_token"]
    return answer["access_token"]


_cache = {}


def token_for(kind):
    """A token of `kind`, reused for two seconds (schemathesis's own cache
    is one value for every operation, and operations want different kinds)."""
    import time

    if kind == "anonymous":
        # Never shared: a login (the spec's own example succeeds) spends the
        # anonymous session it came from, and later cases would meet a 401.
        return anonymous_token()
    cached = _cache.get(kind)
    if cached and time.monotonic() - cached[1] < 2:
        return cached[0]
    token = anonymous_token() if kind == "anonymous" else customer_token()
    _cache[kind] = (token, time.monotonic())
    return token


@schemathesis.auth(refresh_interval=None)
class StorefrontTokens:
    def get(self, case, context):
        kind = case.operation.definition.raw.get("x-auth")
        if kind == "anonymous":
            return token_for("anonymous")
        if kind in ("customer", "any"):
            return token_for("customer")
        return None

    def set(self, case, data, context):
        if data:
            case.headers = case.headers or {}
            case.headers["Authorization"] = f"Bearer {data}"


# E-mail addresses as the service takes them (a bare `local@domain`, see
# shared/src/domain/email.rs); JSON Schema's `email` format allows more
# (quoted local parts, domain literals) than a safe identity may be.
_ATEXT = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+/=?^_`{|}~-"


def _emails():
    from hypothesis import strategies as st

    atom = st.text(alphabet=_ATEXT, min_size=1, max_size=8)
    local = st.lists(atom, min_size=1, max_size=3).map(".".join)
    label = st.from_regex(r"\A[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?\Z")
    domain = st.tuples(st.lists(label, min_size=1, max_size=3), st.from_regex(r"\A[a-z]{2,6}\Z")).map(
        lambda parts: ".".join(parts[0] + [parts[1]])
    )
    return st.tuples(local, domain).map(lambda parts: f"{parts[0]}@{parts[1]}")


schemathesis.openapi.format("email", _emails())
