"""Schemathesis hooks of the contract run (scripts/contract.sh sets SCHEMATHESIS_HOOKS).

Authentication follows each operation's `security` in the document: the user's bearer token,
the metrics token or the scheduler secret, and nothing for public operations. A logout gets a
session of its own, logged in for it, so that it does not revoke the one the run uses.

The run's user, workspace and X account are its fixture. A deletion aimed at the workspace or
the account goes to a spare one instead (contract.sh makes both), and after a profile change
that moved the user's default workspace the default is put back.

`positive_data_acceptance` fails when the API refuses a request that the document allows. The
document states every rule JSON Schema can express (lengths, patterns, formats, enums, required
fields, bounds, exclusive fields). What it cannot express it states in prose, and those refusals,
and only those, are accepted here (`INEXPRESSIBLE`): a 4xx refusal whose every reason is one of
them. contract.sh lists what was accepted, by rule, at the end of the run.
"""

import json
import os
import re
import urllib.request

import schemathesis

BASE = os.environ["CONTRACT_BASE"]
TOKENS = {
    "bearerAuth": os.environ["CONTRACT_TOKEN"],
    "metricsToken": os.environ["CONTRACT_METRICS_TOKEN"],
    "schedulerSecret": os.environ["CONTRACT_SCHEDULER_SECRET"],
}
SPARES = {
    ("DELETE", "/api/accounts/{id}"): (os.environ["CONTRACT_ACCOUNT"], os.environ["CONTRACT_SPARE_ACCOUNT"]),
    ("DELETE", "/api/workspaces/{id}"): (os.environ["CONTRACT_WORKSPACE"], os.environ["CONTRACT_SPARE_WORKSPACE"]),
}
CREDENTIALS = {
    "email": os.environ["CONTRACT_EMAIL"],
    "password": os.environ["CONTRACT_PASSWORD"],
}


def call(method, path, body=None, token=None):
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{BASE}{path}", data=data, headers=headers, method=method)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def fresh_session_token() -> str:
    return call("POST", "/api/auth/login", CREDENTIALS)["data"]["accessToken"]


@schemathesis.hook
def before_call(context, case, kwargs):
    spare = SPARES.get((case.operation.method.upper(), case.operation.path))
    if spare and (case.path_parameters or {}).get("id") == spare[0]:
        case.path_parameters["id"] = spare[1]


@schemathesis.hook
def after_call(context, case, response):
    moved = isinstance(case.body, dict) and "defaultWorkspaceId" in case.body
    if case.operation.path == "/api/auth/profile" and moved and response.status_code == 200:
        body = {"defaultWorkspaceId": os.environ["CONTRACT_WORKSPACE"]}
        call("PATCH", "/api/auth/profile", body, TOKENS["bearerAuth"])


@schemathesis.auth(refresh_interval=None, retry_on=[])
class ByOperationSecurity:
    def get(self, case, context):
        return TOKENS

    def set(self, case, data, context):
        schemes = [name for req in case.operation.definition.raw.get("security", []) for name in req]
        if not schemes:
            return
        if case.operation.method.upper() == "POST" and case.operation.path == "/api/auth/logout":
            token = fresh_session_token()
        else:
            token = data[schemes[0]]
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {token}"


# (field, message) of each refusal that no JSON Schema can foresee, with why.
INEXPRESSIBLE = [
    # Opaque values that only the API hands out (nextCursor).
    (r"cursor", r"cursor"),
    # The set of zone names is PostgreSQL's tz database, which differs between installations.
    (r"tz|timezone", r"time zone"),
    # Rules relative to the clock.
    (r"scheduledAt", r"in the future|365 days ahead|within a year"),
    # Rules between two parameters of an analytics range.
    (r"from|to", r"before to|at most \d+ days"),
    # X's weighted length: URLs weigh 23 whatever their length, CJK and emoji 2.
    (r"(thread\[\d+\]\.)?content", r"280 weighted"),
    # Things that must exist: uploaded media, the workspace's accounts, an active account.
    (r"(thread\[\d+\]\.)?mediaIds(\[\d+\])?", r"uploaded media id|GIF or video"),
    (r"accountId", r"not an account of this workspace|^required"),
]
# Error codes of refusals that depend on the world, not on the request's shape.
INEXPRESSIBLE_CODES = {
    "ACCT_CREDENTIALS",  # X checks OAuth 1.0a credentials.
    "ACCT_STATE",  # The connect state is single-use and known only to the API.
    "ACCT_DENIED",  # X sent the user back with an error.
    "ACCT_CODE",  # X refused the authorization code.
    "MEDIA_002",  # The bytes are not an image or video of the declared type.
    # A bulk import reports the state conflicts of its rows (409 for a single post) in its 422.
    "POST_NO_SLOTS",  # The account has no posting slots to queue into.
    "POST_QUEUE_FULL",  # Every slot of the coming year is taken.
    "POST_DUPLICATE",  # The same text for the same account within 24 hours.
    "POST_ACCOUNT_INACTIVE",  # The account is paused or needs to be reconnected.
    "VAL_010",  # U+0000, which PostgreSQL text cannot hold (info.description says so).
}


def accepted(case, found):
    """One line per accepted refusal, for the run's summary (CONTRACT_ACCEPTED)."""
    path = os.environ.get("CONTRACT_ACCEPTED")
    if path:
        lines = {
            f"{case.operation.label}\t{code if code in INEXPRESSIBLE_CODES else field + ': ' + message}"
            for field, message, code in found
        }
        with open(path, "a") as out:
            out.writelines(re.sub(r"\[\d+\]", "[i]", line) + "\n" for line in sorted(lines))


def reasons(error):
    """(field, message, code) of each reason a 422 gives, whatever the shape of its details."""
    details = error.get("details") or {}
    items = details.get("errors") if isinstance(details.get("errors"), list) else None
    if items:
        return [
            (item.get("field") or "", item.get("message") or "", item.get("code") or error.get("code"))
            for item in items
        ]
    field = details.get("field") or details.get("parameter") or ""
    return [(field, error.get("message") or "", error.get("code"))]


def inexpressible(field, message, code):
    if code in INEXPRESSIBLE_CODES:
        return True
    return any(re.fullmatch(f, field) and re.search(m, message) for f, m in INEXPRESSIBLE)


@schemathesis.hook
def filter_failure(context, failure, case, response):
    if type(failure).__name__ != "RejectedPositiveData":
        return True
    try:
        error = json.loads(response.content)["error"]
    except (ValueError, KeyError, TypeError):
        return True
    if response.status_code in (400, 413, 415, 422):
        found = reasons(error)
        if found and all(inexpressible(*r) for r in found):
            accepted(case, found)
            return False
    return True
