#!/usr/bin/env python3
"""`make smoke URL=...`: a deployment answers as it should, end to end.

Against a fresh stack (or the local server): the keys and the discovery
document, an anonymous token, a sign-up (and, with --outbox, the mail it
sent), and with --email/--password of an existing customer a login, the
profile, an address created, read and deleted (the routes whose permissions
only AWS enforces), and a logout. Standard library only; exits non-zero on
the first surprise.
"""

import argparse
import glob
import json
import os
import sys
import time
import urllib.error
import urllib.request


def call(base, method, path, token=None, body=None, expect=(200,)):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("user-agent", "customer-accounts-smoke/1")
    if data is not None:
        request.add_header("content-type", "application/json")
    if token:
        request.add_header("authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    answer = json.loads(raw) if raw else None
    if status not in expect:
        sys.exit(f"FAIL {method} {path}: {status} {answer}")
    print(f"ok   {method} {path} -> {status}")
    return answer


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("URL"), help="base URL of the API (or URL=...)")
    parser.add_argument("--tenant", default=os.environ.get("TENANT", "demo"))
    parser.add_argument("--client", default=os.environ.get("CLIENT", "storefront"))
    parser.add_argument("--email", default=os.environ.get("SMOKE_EMAIL"), help="an existing, active customer")
    parser.add_argument("--password", default=os.environ.get("SMOKE_PASSWORD"))
    parser.add_argument("--outbox", default=os.environ.get("OUTBOX"), help="local outbox folder, to see the mail")
    args = parser.parse_args()
    if not args.url:
        sys.exit("usage: make smoke URL=https://... [TENANT=..] [CLIENT=..] [SMOKE_EMAIL=.. SMOKE_PASSWORD=..]")
    base, tenant = args.url.rstrip("/"), args.tenant

    jwks = call(base, "GET", "/.well-known/jwks.json")
    if not jwks["keys"]:
        sys.exit("FAIL the JWKS has no key")
    discovery = call(base, "GET", f"/customer/{tenant}/.well-known/openid-configuration")
    print(f"     issuer {discovery['issuer']}")
    anonymous = call(base, "GET", f"/customerlogin/auth/anonymous/login?tenant={tenant}&client_id={args.client}")
    before = set(glob.glob(os.path.join(args.outbox, "*"))) if args.outbox else set()
    address = f"smoke+{int(time.time())}@example.com"
    signup = {"email": address, "password": "smoke test passphrase 2026"}
    call(base, "POST", f"/customer/{tenant}/signup", anonymous["access_token"], signup, expect=(202,))
    if args.outbox:
        sent = [p for p in set(glob.glob(os.path.join(args.outbox, "*"))) - before if address in open(p).read()]
        if not sent:
            sys.exit(f"FAIL no mail to {address} in {args.outbox}")
        print(f"ok   activation mail to {address}")
    else:
        print(f"     (no --outbox: look for the mail to {address} in SES's sending statistics)")
    call(base, "GET", f"/customer/{tenant}/me/addresses/fields")

    if not (args.email and args.password):
        print("     (no --email/--password: login, profile and address routes not tried)")
        return
    anonymous = call(base, "GET", f"/customerlogin/auth/anonymous/login?tenant={tenant}&client_id={args.client}")
    login = call(base, "POST", f"/customer/{tenant}/login", anonymous["access_token"],
                 {"email": args.email, "password": args.password})
    token = login["access_token"]
    call(base, "GET", f"/customer/{tenant}/validateauthtoken", token)
    call(base, "GET", f"/customer/{tenant}/me", token)
    new = {"street": "Smoke Street", "streetNumber": "1", "zipCode": "10115", "city": "Berlin", "country": "DE"}
    created = call(base, "POST", f"/customer/{tenant}/me/addresses", token, new, expect=(201,))
    call(base, "GET", f"/customer/{tenant}/me/addresses/{created['id']}", token)
    call(base, "DELETE", f"/customer/{tenant}/me/addresses/{created['id']}", token, expect=(204,))
    call(base, "POST", f"/customer/{tenant}/logout", token, {}, expect=(204,))
    call(base, "GET", f"/customer/{tenant}/validateauthtoken", token, expect=(401,))
    print("smoke test passed")


if __name__ == "__main__":
    main()
