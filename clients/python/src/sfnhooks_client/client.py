"""The client: the sfnhooks HTTP API (SigV4 via botocore, a JWT bearer, or no
auth) or a direct invoke of its Lambda functions via boto3."""

from __future__ import annotations

import base64
import ipaddress
import json
import os
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union
from urllib.parse import quote, urlencode, urlsplit

import urllib3

from .errors import (
    ERROR_STATUS,
    HEADER_ENCRYPTION_KEY,
    HEADER_IDEMPOTENCY_KEY,
    ROUTES,
    SfnhooksError,
    error_for,
    error_for_invoke,
)

Hook = Dict[str, Any]
TokenOrHook = Union[str, Mapping[str, Any]]

DEFAULT_MAX_RETRIES = 3
_BASE_DELAY = 0.1
_MAX_DELAY = 2.0
_HOP_HEADERS = {"host", "connection", "keep-alive", "content-length", "transfer-encoding", "upgrade", "expect",
                "proxy-connection", "te", "trailer"}


@dataclass
class WebhookRequest:
    """The HTTP request a webhook's workflow receives (what a web framework's request holds)."""

    method: str = "POST"
    headers: Mapping[str, str] = field(default_factory=dict)
    body: Union[bytes, str, None] = None
    #: The query string, without "?" ("a=1&b=2").
    query: str = ""
    #: The host the caller used (for a direct invoke; the HTTP API sees its own).
    host: str = "webhook.invalid"


@dataclass
class WebhookResponse:
    """The webhook's answer: the workflow's (respondWith static or manual)."""

    status: int
    headers: Dict[str, str]
    body: bytes

    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self) -> Any:
        return json.loads(self.body)


class _Transient(Exception):
    """Marks a failure that is retried (network error, answer lost)."""


def is_transient(err: BaseException) -> bool:
    """Whether err is retried: a lost answer, InternalError, Contention, or API Gateway's own 429/5xx."""
    if isinstance(err, SfnhooksError):
        if err.code in ("InternalError", "Contention"):
            return True
        return err.code == "" and err.status in (429, 500, 502, 503, 504)
    if isinstance(err, (urllib3.exceptions.HTTPError, ConnectionError, _Transient)):
        return True
    try:
        from botocore.exceptions import ConnectionError as BotoConnectionError
        from botocore.exceptions import HTTPClientError
    except ImportError:  # pragma: no cover
        return False
    return isinstance(err, (BotoConnectionError, HTTPClientError))


def _dispose_query(execution_arn: str, hook_id: str) -> List[Tuple[str, str]]:
    """The query of DELETE /hooks/{token}: the execution, and the hook id when given."""
    q = [("executionArn", execution_arn)]
    if hook_id:
        q.append(("hookId", hook_id))
    return q


def _token_of(token_or_hook: TokenOrHook) -> str:
    token = token_or_hook if isinstance(token_or_hook, str) else token_or_hook.get("token")
    if not isinstance(token, str) or not token:
        raise TypeError("a hook token (str) or a hook with a token is required")
    return token


def _with_run_id(hook: Any) -> Hook:
    # run_id is the toolkit's runId: the hook's execution.
    if isinstance(hook, dict) and hook.get("executionArn"):
        return {**hook, "runId": hook["executionArn"]}
    return dict(hook or {})


def _is_loopback(host: str) -> bool:
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _region_of(host: str) -> Optional[str]:
    parts = host.split(".")
    if "execute-api" in parts:
        i = parts.index("execute-api")
        if i + 1 < len(parts):
            return parts[i + 1]
    return None


def _path(op: str, token: Optional[str] = None) -> str:
    path: str = ROUTES[op][1]
    return path if token is None else path.replace("{token}", quote(token, safe=""))


def _execution_query(execution_arn: str, state: Optional[str], limit: Optional[int],
                     next_token: Optional[str]) -> List[Tuple[str, str]]:
    """The query of GET /hooks?executionArn=...: the options given, as the API names them."""
    q = [("executionArn", execution_arn)]
    if state:
        q.append(("state", state))
    if limit is not None:
        q.append(("limit", str(limit)))
    if next_token:
        q.append(("nextToken", next_token))
    return q


def _state_machine_query(state_machine_arn: str, state: Optional[str], tag: Optional[str], order: Optional[str],
                         limit: Optional[int], cursor: Optional[str]) -> List[Tuple[str, str]]:
    """The query of GET /hooks?stateMachineArn=...: the options given, as the API names them."""
    q = [("stateMachineArn", state_machine_arn)]
    for name, value in (("state", state), ("tag", tag), ("order", order), ("cursor", cursor)):
        if value:
            q.append((name, value))
    if limit is not None:
        q.append(("limit", str(limit)))
    return q


def _parse(text: str) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


class _HTTPTransport:
    def __init__(self, endpoint: str, auth: Optional[str], jwt: Union[str, Callable[[], str], None],
                 region: Optional[str], session: Any, timeout: float, list_auth: Optional[str] = None) -> None:
        self.base = endpoint.rstrip("/")
        parts = urlsplit(self.base)
        loopback = _is_loopback(parts.hostname or "")
        self.auth = auth or os.environ.get("SFNHOOKS_AUTH") or ("none" if loopback else "sigv4")
        # GET /hooks and DELETE /hooks/{token} are operator routes: always SigV4
        # on AWS, whatever auth the other routes take (docs/openapi.yaml); make
        # dev checks none.
        self.list_auth = list_auth or (self.auth if loopback else "sigv4")
        self.pool = urllib3.PoolManager(timeout=urllib3.Timeout(total=timeout), retries=False)
        for a in (self.auth, self.list_auth):
            if a not in ("sigv4", "jwt", "none"):
                raise SfnhooksError(f"unknown auth {a!r} (sigv4, jwt or none)")
        self.jwt = jwt or os.environ.get("SFNHOOKS_JWT")
        if "jwt" in (self.auth, self.list_auth) and not self.jwt:
            raise SfnhooksError('auth "jwt" needs jwt (a token, or a function returning one) or SFNHOOKS_JWT')
        self._session = session
        self._region = region or _region_of(parts.hostname or "")
        if self.auth == "sigv4":
            self._sigv4()

    def _sigv4(self) -> Tuple[Any, str]:
        """The boto3 session and the region to sign with."""
        if self._session is None:
            import boto3
            self._session = boto3.Session()
        region = self._region or self._session.region_name
        if not region:
            raise SfnhooksError('SigV4 needs a region: pass region, use the execute-api host name, or set AWS_REGION')
        return self._session, region

    def send(self, method: str, path: str, *, query: Optional[Sequence[Tuple[str, str]]] = None,
             body: Optional[bytes] = None, headers: Optional[Dict[str, str]] = None,
             sign: bool = True, auth: Optional[str] = None) -> Any:
        # The query as SigV4's canonical request encodes it (RFC 3986: a space is
        # %20, never '+'), so that what botocore signs is byte for byte what is
        # sent, whatever a tag or cursor holds.
        url = self.base + path + ("?" + urlencode(list(query), quote_via=quote) if query else "")
        h = dict(headers or {})
        auth = auth or self.auth
        if sign and auth == "jwt":
            tok = self.jwt() if callable(self.jwt) else self.jwt
            h["authorization"] = f"Bearer {tok}"
        elif sign and auth == "sigv4":
            from botocore.auth import SigV4Auth
            from botocore.awsrequest import AWSRequest
            session, region = self._sigv4()
            creds = session.get_credentials()
            if creds is None:
                raise SfnhooksError("no AWS credentials found (the default chain of boto3) to sign with")
            req = AWSRequest(method=method, url=url, data=body or b"", headers=h)
            SigV4Auth(creds.get_frozen_credentials(), "execute-api", region).add_auth(req)
            h = dict(req.headers.items())
        return self.pool.request(method, url, body=body, headers=h, redirect=False, preload_content=True)

    def call(self, op: str, token: Optional[str] = None, **kw: Any) -> Any:
        method = ROUTES[op][0]
        resp = self.send(method, _path(op, token), **kw)
        text = resp.data.decode("utf-8", "replace")
        body = _parse(text)
        if 200 <= resp.status < 300:
            return body
        raise error_for(resp.status, body, text, resp.headers.get("retry-after"))

    def resume(self, token: str, body: bytes, key: str, encryption_key: Optional[str]) -> Any:
        h = {"content-type": "application/json", HEADER_IDEMPOTENCY_KEY: key}
        if encryption_key:
            h[HEADER_ENCRYPTION_KEY] = encryption_key
        return self.call("resumeHook", token, body=body, headers=h)

    def get(self, token: str) -> Any:
        return self.call("getHook", token)

    def list(self, execution_arn: str, state: Optional[str], limit: Optional[int], next_token: Optional[str]) -> Any:
        q = _execution_query(execution_arn, state, limit, next_token)
        return self.call("listHooks", query=q, auth=self.list_auth)

    def list_state_machine(self, state_machine_arn: str, state: Optional[str], tag: Optional[str],
                           order: Optional[str], limit: Optional[int], cursor: Optional[str]) -> Any:
        q = _state_machine_query(state_machine_arn, state, tag, order, limit, cursor)
        return self.call("listHooks", query=q, auth=self.list_auth)

    def dispose(self, token: str, execution_arn: str, hook_id: str) -> Any:
        return self.call("disposeHook", token, query=_dispose_query(execution_arn, hook_id), auth=self.list_auth)

    def reject(self, token: str, error: str, cause: str, key: str) -> Any:
        h = {"content-type": "application/json", HEADER_IDEMPOTENCY_KEY: key}
        return self.call("rejectHook", token, body=json.dumps({"error": error, "cause": cause}).encode(), headers=h)

    def heartbeat(self, token: str) -> Any:
        return self.call("heartbeatHook", token)

    def webhook(self, token: str, req: WebhookRequest) -> WebhookResponse:
        h = {k: v for k, v in req.headers.items() if k.lower() not in _HOP_HEADERS}
        body = req.body.encode() if isinstance(req.body, str) else req.body
        path = _path("resumeWebhook", token) + ("?" + req.query if req.query else "")
        # Public route: the token is the credential; nothing is signed.
        resp = self.send(req.method.upper(), path, body=body, headers=h, sign=False)
        headers = {k.lower(): v for k, v in resp.headers.items() if k.lower() not in ("content-length", "content-encoding")}
        return _webhook_answer(resp.status, headers, resp.data)


def _webhook_answer(status: int, headers: Dict[str, str], raw: bytes) -> WebhookResponse:
    """The workflow's response, or the API's own error raised (a documented code at its status)."""
    if status >= 400 and headers.get("content-type", "").startswith("application/json"):
        text = raw.decode("utf-8", "replace")
        body = _parse(text)
        code = body.get("error") if isinstance(body, dict) else None
        if isinstance(code, str) and ERROR_STATUS.get(code) == status:
            raise error_for(status, body, text, headers.get("retry-after"))
    return WebhookResponse(status=status, headers=headers, body=raw)


class _LambdaTransport:
    def __init__(self, resume_hook_function: Optional[str], resume_webhook_function: Optional[str],
                 lambda_client: Any, region: Optional[str], endpoint_url: Optional[str], session: Any) -> None:
        self.hook_fn = resume_hook_function or os.environ.get("SFNHOOKS_RESUME_HOOK_FUNCTION")
        self.webhook_fn = resume_webhook_function or os.environ.get("SFNHOOKS_RESUME_WEBHOOK_FUNCTION")
        if lambda_client is None:
            import boto3
            lambda_client = (session or boto3.Session()).client("lambda", region_name=region, endpoint_url=endpoint_url)
        self.client = lambda_client

    def invoke(self, fn: Optional[str], event: Dict[str, Any]) -> Any:
        if not fn:
            raise SfnhooksError("no function name: pass resume_hook_function / resume_webhook_function or set "
                                "SFNHOOKS_RESUME_HOOK_FUNCTION / SFNHOOKS_RESUME_WEBHOOK_FUNCTION")
        out = self.client.invoke(FunctionName=fn, Payload=json.dumps(event).encode())
        text = out["Payload"].read().decode("utf-8", "replace")
        body = _parse(text)
        if out.get("FunctionError"):
            b = body if isinstance(body, dict) else {}
            raise error_for_invoke(b.get("errorType") or out["FunctionError"], b.get("errorMessage") or text)
        return body

    def http(self, fn: Optional[str], route_key: str, *, method: str, path: str, token: Optional[str] = None,
             query: str = "", headers: Optional[Dict[str, str]] = None, body: Optional[bytes] = None,
             cookies: Optional[List[str]] = None, domain: str = "lambda.invalid") -> Dict[str, Any]:
        """Invoke fn with an API Gateway HTTP API (payload 2.0) event; its answer."""
        headers = dict(headers or {})
        event: Dict[str, Any] = {
            "version": "2.0", "routeKey": route_key, "rawPath": path, "rawQueryString": query, "headers": headers,
            "requestContext": {
                "domainName": domain, "requestId": str(uuid.uuid4()), "routeKey": route_key, "stage": "$default",
                "timeEpoch": int(time.time() * 1000),
                "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1",
                         "userAgent": headers.get("user-agent", "sfnhooks-client")},
            },
            "isBase64Encoded": body is not None,
        }
        if token is not None:
            event["pathParameters"] = {"token": token}
        if query:
            from urllib.parse import parse_qsl
            event["queryStringParameters"] = dict(parse_qsl(query))
        if body is not None:
            event["body"] = base64.b64encode(body).decode()
        if cookies:
            event["cookies"] = cookies
        resp = self.invoke(fn, event)
        if not isinstance(resp, dict) or not isinstance(resp.get("statusCode"), int):
            raise SfnhooksError("the function did not answer with an HTTP API response", body=resp)
        return resp

    def _http_json(self, route_key: str, **kw: Any) -> Any:
        r = self.http(self.hook_fn, route_key, **kw)
        raw = r.get("body") or ""
        text = base64.b64decode(raw).decode("utf-8", "replace") if r.get("isBase64Encoded") else raw
        body = _parse(text)
        if 200 <= r["statusCode"] < 300:
            return body
        raise error_for(r["statusCode"], body, text, (r.get("headers") or {}).get("retry-after"))

    def resume(self, token: str, body: bytes, key: str, encryption_key: Optional[str]) -> Any:
        event = {"token": token, "payload": json.loads(body), "idempotencyKey": key}
        if encryption_key:
            event["encryptionKeyId"] = encryption_key
        return self.invoke(self.hook_fn, event)

    def get(self, token: str) -> Any:
        return self._http_json("GET /hooks/{token}", method="GET", token=token, path="/hooks/" + token)

    def list(self, execution_arn: str, state: Optional[str], limit: Optional[int], next_token: Optional[str]) -> Any:
        q = _execution_query(execution_arn, state, limit, next_token)
        return self._http_json("GET /hooks", method="GET", path="/hooks", query=urlencode(q))

    def list_state_machine(self, state_machine_arn: str, state: Optional[str], tag: Optional[str],
                           order: Optional[str], limit: Optional[int], cursor: Optional[str]) -> Any:
        q = _state_machine_query(state_machine_arn, state, tag, order, limit, cursor)
        return self._http_json("GET /hooks", method="GET", path="/hooks", query=urlencode(q))

    def dispose(self, token: str, execution_arn: str, hook_id: str) -> Any:
        return self._http_json("DELETE /hooks/{token}", method="DELETE", token=token, path="/hooks/" + token,
                               query=urlencode(_dispose_query(execution_arn, hook_id)))

    def reject(self, token: str, error: str, cause: str, key: str) -> Any:
        return self.invoke(self.hook_fn, {"action": "reject", "token": token, "error": error, "cause": cause,
                                          "idempotencyKey": key})

    def heartbeat(self, token: str) -> Any:
        return self.invoke(self.hook_fn, {"action": "heartbeat", "token": token})

    def webhook(self, token: str, req: WebhookRequest) -> WebhookResponse:
        headers: Dict[str, str] = {}
        cookies: List[str] = []
        for k, v in req.headers.items():
            lk = k.lower()
            if lk == "cookie":
                cookies.extend(c.strip() for c in v.split(";") if c.strip())
            elif lk not in _HOP_HEADERS:
                headers[lk] = v
        headers["host"] = req.host
        body = req.body.encode() if isinstance(req.body, str) else req.body
        if req.method.upper() in ("GET", "HEAD"):
            body = None
        r = self.http(self.webhook_fn, "ANY /webhooks/{token}", method=req.method.upper(), token=token,
                      path="/webhooks/" + token, query=req.query, headers=headers, body=body, cookies=cookies,
                      domain=req.host)
        out = {k.lower(): v for k, v in (r.get("headers") or {}).items()}
        if r.get("cookies"):
            out["set-cookie"] = ", ".join(r["cookies"])
        raw_body = r.get("body") or ""
        raw = base64.b64decode(raw_body) if r.get("isBase64Encoded") else raw_body.encode()
        return _webhook_answer(r["statusCode"], out, raw)


class Client:
    """A client of one sfnhooks deployment.

    HTTP API: ``Client(endpoint=..., auth="sigv4"|"jwt"|"none")`` (endpoint
    default $SFNHOOKS_ENDPOINT; auth default $SFNHOOKS_AUTH, else "none" for a
    loopback endpoint such as make dev, else "sigv4" with boto3's credentials;
    list_auth, for the operator routes (list_hooks, list_state_machine_hooks,
    dispose_hook), default "sigv4": they are always SigV4 on AWS).
    Direct invoke: ``Client(resume_hook_function=..., resume_webhook_function=...)``
    (or $SFNHOOKS_RESUME_HOOK_FUNCTION without an endpoint).
    """

    def __init__(
        self,
        endpoint: Optional[str] = None,
        *,
        auth: Optional[str] = None,
        list_auth: Optional[str] = None,
        jwt: Union[str, Callable[[], str], None] = None,
        region: Optional[str] = None,
        session: Any = None,
        resume_hook_function: Optional[str] = None,
        resume_webhook_function: Optional[str] = None,
        lambda_client: Any = None,
        lambda_endpoint_url: Optional[str] = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        timeout: float = 30.0,
    ) -> None:
        self.max_retries = max_retries
        endpoint = endpoint or (None if (resume_hook_function or resume_webhook_function or lambda_client)
                                else os.environ.get("SFNHOOKS_ENDPOINT"))
        self._transport: Union[_HTTPTransport, _LambdaTransport]
        if endpoint:
            self._transport = _HTTPTransport(endpoint, auth, jwt, region, session, timeout, list_auth)
        elif resume_hook_function or resume_webhook_function or lambda_client or os.environ.get("SFNHOOKS_RESUME_HOOK_FUNCTION"):
            self._transport = _LambdaTransport(resume_hook_function, resume_webhook_function, lambda_client, region,
                                               lambda_endpoint_url, session)
        else:
            raise SfnhooksError("no endpoint: pass endpoint (the stack's ApiUrl output; http://127.0.0.1:3000 for "
                                "make dev), set SFNHOOKS_ENDPOINT, or pass resume_hook_function for a direct invoke")

    def _retry(self, attempt: Callable[[], Any]) -> Any:
        n = 0
        while True:
            try:
                return attempt()
            except Exception as err:  # noqa: BLE001 - re-raised unless transient
                if n >= self.max_retries or not is_transient(err):
                    raise
                time.sleep(random.random() * min(_MAX_DELAY, _BASE_DELAY * 2 ** n))
                n += 1

    def resume_hook(self, token_or_hook: TokenOrHook, payload: Any = None, *,
                    encryption_key_override: Optional[str] = None, idempotency_key: Optional[str] = None) -> Hook:
        """Resume the hook with payload (any JSON value).

        Without an idempotency key one is made for this call, so that a
        retry never stores the payload twice. encryption_key_override seals
        the payload with a data key of that KMS key (docs/sealed.md).
        """
        token = _token_of(token_or_hook)
        key = idempotency_key or str(uuid.uuid4())
        body = json.dumps(payload).encode()
        return _with_run_id(self._retry(lambda: self._transport.resume(token, body, key, encryption_key_override)))

    def get_hook(self, token: str) -> Hook:
        """The hook, with waiting (an await is parked on it), pending and delivered."""
        return _with_run_id(self._retry(lambda: self._transport.get(token)))

    def list_hooks(self, execution_arn: str, *, state: Optional[str] = None, limit: Optional[int] = None,
                   next_token: Optional[str] = None) -> Dict[str, Any]:
        """One page of an execution's live hooks: {"hooks": [...], "nextToken"?}. Ask again with
        next_token until it is absent (a page may be empty while more follow)."""
        page: Dict[str, Any] = self._retry(lambda: self._transport.list(execution_arn, state, limit, next_token)) or {}
        return {**page, "hooks": [_with_run_id(h) for h in page.get("hooks") or []]}

    def list_state_machine_hooks(self, state_machine_arn: str, *, state: Optional[str] = None,
                                 tag: Optional[str] = None, order: Optional[str] = None, limit: Optional[int] = None,
                                 cursor: Optional[str] = None) -> Dict[str, Any]:
        """One page of the live hooks of every execution of a state machine, by age:
        {"hooks": [...], "cursor"?}.

        state: "waiting", "pending" or "idle"; tag: one key:value, exact; order:
        "newest" (the default) or "oldest"; limit: 1-50 (default 25); cursor: the
        previous page's (same state machine, tag and order). Ask again with cursor
        until it is absent (with a state, a page may be empty while more follow).
        An operator route (GET /hooks?stateMachineArn=...): signed as list_auth.
        """
        page: Dict[str, Any] = self._retry(lambda: self._transport.list_state_machine(
            state_machine_arn, state, tag, order, limit, cursor)) or {}
        return {**page, "hooks": [_with_run_id(h) for h in page.get("hooks") or []]}

    def dispose_hook(self, token_or_hook: TokenOrHook, execution_arn: Optional[str] = None) -> None:
        """Dispose the hook while execution_arn holds it, as the workflow's dispose does
        (an await parked on it fails with HookDisposedError).

        Given a hook (from a listing), its executionArn is the default, and only
        that hook is disposed (its hookId): not one its execution created again
        since under the same token, which raises HookConflictError. A hook
        already gone is success, so a retry is safe. An operator route (DELETE
        /hooks/{token}?executionArn=...&hookId=...): signed as list_auth.
        """
        token = _token_of(token_or_hook)
        hook_id = ""
        if not isinstance(token_or_hook, str):
            if execution_arn is None:
                execution_arn = token_or_hook.get("executionArn")
            hook_id = token_or_hook.get("hookId") or ""
        exe = execution_arn or ""
        self._retry(lambda: self._transport.dispose(token, exe, hook_id))

    def reject_hook(self, token_or_hook: TokenOrHook, error: str, cause: str = "", *,
                    idempotency_key: Optional[str] = None) -> Hook:
        """Fail the hook's await with error (the name a Catch matches) and cause."""
        token = _token_of(token_or_hook)
        key = idempotency_key or str(uuid.uuid4())
        return _with_run_id(self._retry(lambda: self._transport.reject(token, error, cause, key)))

    def heartbeat(self, token_or_hook: TokenOrHook) -> None:
        """Restart the heartbeat clock of the await parked on the hook."""
        token = _token_of(token_or_hook)
        self._retry(lambda: self._transport.heartbeat(token))

    def resume_webhook(self, token: str, request: Optional[WebhookRequest] = None, **fields: Any) -> WebhookResponse:
        """Hand an HTTP request to the workflow that created the webhook; the workflow's response.

        request is a WebhookRequest, or its fields as keywords (method,
        headers, body, query). Errors of the API itself are raised as typed
        errors. Sent once: the webhook route has no idempotency key.
        """
        req = request or WebhookRequest(**fields)
        return self._transport.webhook(token, req)


_default: Optional[Client] = None


def configure(**options: Any) -> Client:
    """Set the options of the client the module-level functions use (default: from the environment)."""
    global _default
    _default = Client(**options)
    return _default


def _client() -> Client:
    global _default
    if _default is None:
        _default = Client()
    return _default


def resume_hook(token_or_hook: TokenOrHook, payload: Any = None, *, encryption_key_override: Optional[str] = None,
                idempotency_key: Optional[str] = None) -> Hook:
    return _client().resume_hook(token_or_hook, payload, encryption_key_override=encryption_key_override,
                                 idempotency_key=idempotency_key)


def resume_webhook(token: str, request: Optional[WebhookRequest] = None, **fields: Any) -> WebhookResponse:
    return _client().resume_webhook(token, request, **fields)


def get_hook(token: str) -> Hook:
    return _client().get_hook(token)


def list_hooks(execution_arn: str, *, state: Optional[str] = None, limit: Optional[int] = None,
               next_token: Optional[str] = None) -> Dict[str, Any]:
    return _client().list_hooks(execution_arn, state=state, limit=limit, next_token=next_token)


def list_state_machine_hooks(state_machine_arn: str, *, state: Optional[str] = None, tag: Optional[str] = None,
                             order: Optional[str] = None, limit: Optional[int] = None,
                             cursor: Optional[str] = None) -> Dict[str, Any]:
    return _client().list_state_machine_hooks(state_machine_arn, state=state, tag=tag, order=order, limit=limit,
                                              cursor=cursor)


def dispose_hook(token_or_hook: TokenOrHook, execution_arn: Optional[str] = None) -> None:
    _client().dispose_hook(token_or_hook, execution_arn)


def reject_hook(token_or_hook: TokenOrHook, error: str, cause: str = "", *,
                idempotency_key: Optional[str] = None) -> Hook:
    return _client().reject_hook(token_or_hook, error, cause, idempotency_key=idempotency_key)


def heartbeat(token_or_hook: TokenOrHook) -> None:
    _client().heartbeat(token_or_hook)
