#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""openapi_check.py - validate real answers of rawcap-server against docs/openapi.yaml.

  openapi_check.py SPEC routes MAIN_C
      every route of server/main.c's table is an operation of SPEC, and back
  openapi_check.py SPEC answer METHOD PATH HEADERS_FILE BODY_FILE
      the answer (curl -D HEADERS_FILE -o BODY_FILE) is one SPEC documents
      for METHOD PATH: its status, content type, required headers, and a
      JSON body valid against the schema (JSON Schema 2020-12, python3-jsonschema)
  openapi_check.py SPEC answers LIST
      the same for each line "METHOD PATH HEADERS_FILE BODY_FILE" of LIST

Exit 0 and nothing printed when it conforms; 1 with the reasons otherwise.
"""
import json
import re
import sys

import jsonschema
import yaml


def fail(msg):
    print(f"openapi: {msg}", file=sys.stderr)
    sys.exit(1)


def resolve(spec, obj):
    """Follow a local $ref (one object deep; siblings of $ref are merged in)."""
    while isinstance(obj, dict) and "$ref" in obj:
        ref = obj["$ref"]
        target = spec
        for part in ref.lstrip("#/").split("/"):
            target = target[part]
        rest = {k: v for k, v in obj.items() if k != "$ref"}
        obj = {**target, **rest}
    return obj


def match_path(spec, path):
    """The path template for path: literal segments beat {params}."""
    best, best_score = None, -1
    segs = path.strip("/").split("/")
    for tmpl in spec["paths"]:
        t = tmpl.strip("/").split("/")
        if len(t) != len(segs):
            continue
        score = 0
        for a, b in zip(t, segs):
            if a.startswith("{") and a.endswith("}"):
                if not b:
                    break
            elif a != b:
                break
            else:
                score += 1
        else:
            if score > best_score:
                best, best_score = tmpl, score
    return best


def read_headers(path):
    """The last header block of curl -D (after any 100 Continue): status and headers."""
    blocks = open(path, encoding="latin-1").read().replace("\r\n", "\n").strip().split("\n\n")
    lines = blocks[-1].split("\n")
    m = re.match(r"HTTP/[0-9.]+ ([0-9]{3})", lines[0])
    if not m:
        fail(f"no status line in {path}")
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return m.group(1), headers


def validate(spec, schema, instance, what):
    root = dict(resolve(spec, schema))
    root["components"] = spec["components"]  # so that "#/components/..." resolves
    v = jsonschema.Draft202012Validator(root, format_checker=jsonschema.FormatChecker())
    errors = sorted(v.iter_errors(instance), key=lambda e: list(e.path))
    if errors:
        fail("; ".join(f"{what} at /{'/'.join(map(str, e.path))}: {e.message}" for e in errors[:5]))


def check_answer(spec, method, path, headers_file, body_file):
    status, headers = read_headers(headers_file)
    body = open(body_file, "rb").read()
    tmpl = match_path(spec, path)
    op = spec["paths"].get(tmpl, {}).get(method.lower()) if tmpl else None
    if op is None:
        # No such operation: only the server's own 404 or 405, as an Error.
        if status not in ("404", "405"):
            fail(f"{method} {path}: {status} for an operation the spec does not have")
        resp = resolve(spec, spec["components"]["responses"]["Error"])
    else:
        responses = op["responses"]
        if status not in responses and "default" not in responses:
            fail(f"{method} {tmpl}: status {status} is not documented "
                 f"(documented: {', '.join(sorted(responses))})")
        resp = resolve(spec, responses.get(status, responses.get("default")))
    what = f"{method} {path} -> {status}"
    for name, h in resp.get("headers", {}).items():
        h = resolve(spec, h)
        value = headers.get(name.lower())
        if value is None:
            if h.get("required"):
                fail(f"{what}: required header {name} missing")
            continue
        validate(spec, h["schema"], value, f"{what} header {name}")
    content = resp.get("content")
    ctype = headers.get("content-type", "").split(";")[0].strip().lower()
    if not content:
        if body:
            fail(f"{what}: {len(body)} body bytes where the spec has none")
        return
    if ctype not in {k.lower() for k in content}:
        fail(f"{what}: Content-Type {ctype or '(none)'} is not one of {', '.join(content)}")
    schema = content[ctype].get("schema", {})
    if ctype == "application/json":
        try:
            instance = json.loads(body)
        except ValueError as e:
            fail(f"{what}: body is not JSON: {e}")
        validate(spec, schema, instance, what)
    elif ctype.startswith("text/"):
        validate(spec, schema, body.decode("utf-8").rstrip("\n"), what)


def check_routes(spec, main_c):
    """server/main.c's route table and the spec's operations are the same set."""
    text = open(main_c, encoding="utf-8").read()
    table = text[text.index("struct httpd_route routes[]"):]
    table = table[:table.index("{0}")]
    routes = set()
    for m in re.finditer(r'\.method\s*=\s*"([A-Z]+)",\s*\.path\s*=\s*"([^"]+)"', table):
        routes.add((m.group(1).lower(), m.group(2)))
    if not routes:
        fail(f"no routes found in {main_c}")
    ops = set()
    for tmpl, item in spec["paths"].items():
        for method in item:
            if method in ("get", "put", "post", "delete", "patch", "head"):
                ops.add((method, re.sub(r"\{[^}]+\}", "*", tmpl)))
    if routes != ops:
        fail(f"server routes not in the spec: {sorted(routes - ops)}; "
             f"spec operations the server lacks: {sorted(ops - routes)}")
    print(f"openapi: {len(routes)} routes, all in the spec")


def main():
    if len(sys.argv) < 3:
        fail(__doc__)
    spec = yaml.safe_load(open(sys.argv[1], encoding="utf-8"))
    if not str(spec.get("openapi", "")).startswith("3."):
        fail(f"{sys.argv[1]} is not an OpenAPI 3 document")
    jsonschema.Draft202012Validator.check_schema(
        {"$defs": spec["components"]["schemas"]})
    if sys.argv[2] == "routes" and len(sys.argv) == 4:
        check_routes(spec, sys.argv[3])
    elif sys.argv[2] == "answer" and len(sys.argv) == 7:
        check_answer(spec, *sys.argv[3:])
    elif sys.argv[2] == "answers" and len(sys.argv) == 4:
        n = 0
        for line in open(sys.argv[3], encoding="utf-8"):
            check_answer(spec, *line.split())
            n += 1
        print(f"openapi: {n} answers conform")
    else:
        fail(__doc__)


if __name__ == "__main__":
    main()
