"""The fuzz suite's own check, loaded by schemathesis (SCHEMATHESIS_HOOKS): every error
answer of the service is exactly {"error_code": "<code>", "error_msg": "<text>"} in JSON."""

import re

import schemathesis

CODE = re.compile(r"^(GES|APIG)\.[0-9]{4}$")


@schemathesis.check
def error_body_shape(ctx, response, case):
    """A 4xx or 5xx answer is JSON with exactly error_code and error_msg."""
    if response.status_code < 400:
        return None
    content_type = response.headers.get("content-type", [""])
    if isinstance(content_type, list):
        content_type = content_type[0] if content_type else ""
    if not content_type.startswith("application/json"):
        raise AssertionError(f"error answer {response.status_code} is {content_type!r}, not JSON")
    body = response.json()
    if not isinstance(body, dict) or set(body) != {"error_code", "error_msg"}:
        raise AssertionError(f"error body off the shape: {body!r}")
    if not isinstance(body["error_code"], str) or not CODE.match(body["error_code"]):
        raise AssertionError(f"error_code is not a code: {body['error_code']!r}")
    if not isinstance(body["error_msg"], str) or not body["error_msg"]:
        raise AssertionError(f"error_msg is not a message: {body['error_msg']!r}")
    return None
