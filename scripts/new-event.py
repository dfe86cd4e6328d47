#!/usr/bin/env python3
"""Writes an API Gateway HTTP API (payload 2.0) event fixture into events/.

  scripts/new-event.py NAME METHOD ROUTE_KEY_PATH RAW_PATH [--query 'a=b&c=d']
        [--token PLACEHOLDER] [--json '{...}'] [--form 'a=b'] [--header 'k: v']

ROUTE_KEY_PATH is the template (/customer/{tenant}/login); RAW_PATH the
concrete path (/customer/demo/login). Placeholders such as {{ANONYMOUS_TOKEN}}
are filled by the tests; the file stays a valid event for `sam local invoke`.
"""
import argparse
import json
import pathlib
import re
import urllib.parse

parser = argparse.ArgumentParser()
parser.add_argument("name")
parser.add_argument("method")
parser.add_argument("route")
parser.add_argument("path")
parser.add_argument("--query", default="")
parser.add_argument("--token", help="placeholder name for the bearer token, e.g. ANONYMOUS_TOKEN")
parser.add_argument("--json", dest="json_body")
parser.add_argument("--form")
parser.add_argument("--header", action="append", default=[])
args = parser.parse_args()

headers = {
    "accept": "application/json",
    "host": "api.example.com",
    "user-agent": "Mozilla/5.0 (fixture)",
    "x-forwarded-for": "203.0.113.10",
    "x-forwarded-proto": "https",
}
body = None
if args.json_body is not None:
    headers["content-type"] = "application/json"
    body = json.dumps(json.loads(args.json_body), separators=(",", ":"))
if args.form is not None:
    headers["content-type"] = "application/x-www-form-urlencoded"
    body = args.form
if args.token:
    headers["authorization"] = "Bearer {{%s}}" % args.token
for h in args.header:
    k, v = h.split(":", 1)
    headers[k.strip().lower()] = v.strip()

names = re.findall(r"{([^}]+)}", args.route)
values = re.findall(r"[^/]+", args.path)
template_parts = re.findall(r"[^/]+", args.route)
path_params = {}
for t, v in zip(template_parts, values):
    m = re.fullmatch(r"{([^}]+)}", t)
    if m:
        path_params[m.group(1)] = v

request_id = "fixture-" + args.name.replace(".json", "")
event = {
    "version": "2.0",
    "routeKey": f"{args.method} {args.route}",
    "rawPath": args.path,
    "rawQueryString": args.query,
    "headers": headers,
    "requestContext": {
        "accountId": "123456789012",
        "apiId": "abcdef1234",
        "domainName": "api.example.com",
        "domainPrefix": "api",
        "http": {
            "method": args.method,
            "path": args.path,
            "protocol": "HTTP/1.1",
            "sourceIp": "203.0.113.10",
            "userAgent": headers["user-agent"],
        },
        "requestId": request_id,
        "routeKey": f"{args.method} {args.route}",
        "stage": "$default",
        "time": "22/Nov/2026:10:00:00 +0000",
        "timeEpoch": 1795341600000,
    },
    "isBase64Encoded": False,
}
if args.query:
    event["queryStringParameters"] = dict(urllib.parse.parse_qsl(args.query, keep_blank_values=True))
if path_params:
    event["pathParameters"] = path_params
if body is not None:
    event["body"] = body

out = pathlib.Path(__file__).resolve().parent.parent / "events" / (args.name if args.name.endswith(".json") else args.name + ".json")
out.write_text(json.dumps(event, indent=2) + "\n")
print(out.relative_to(out.parent.parent))
