"""The client against make dev's stack: each test resumes a real execution of an
example state machine and asserts the execution's output."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.server
import json
import socket
import threading
import time
import urllib.request

import pytest

import sfnhooks_client as sh
from conftest import fake_execution, uniq, until


def clients(dev):
    return {
        "no auth": sh.Client(dev.api),  # loopback: no auth, as make dev checks none
        "SigV4": sh.Client(dev.api, auth="sigv4", region="us-east-1"),
        "Lambda invoke": direct(dev),
    }


def direct(dev):
    return sh.Client(resume_hook_function=dev.state["functions"]["resumeHook"],
                     resume_webhook_function=dev.state["functions"]["resumeWebhook"],
                     lambda_endpoint_url=dev.state["bridgeUrl"], region="us-east-1")


def parked(c, token):
    return until(f"an await parked on {token}", lambda: c.get_hook(token)["waiting"])


@pytest.mark.parametrize("name", ["no auth", "SigV4", "Lambda invoke"])
def test_approval_end_to_end(dev, name):
    c = clients(dev)[name]
    order = uniq("py")
    exe = dev.start("approval", {"orderId": order})
    parked(c, f"approval-{order}")
    hook = c.resume_hook(f"approval-{order}", {"approved": True, "comment": "LGTM"})
    assert hook["runId"] == exe
    out = dev.finished(exe)
    assert out["status"] == "SUCCEEDED"
    assert out["output"] == {"orderId": order, "decision": {"approved": True, "comment": "LGTM"}, "outcome": "approved"}


def test_reject_with_jwt(dev):
    c = sh.Client(dev.api, auth="jwt", jwt=lambda: "header.payload.signature")
    order = uniq("py")
    exe = dev.start("approval", {"orderId": order})
    parked(c, f"approval-{order}")
    assert [h["token"] for h in c.list_hooks(exe, state="waiting")["hooks"]] == [f"approval-{order}"]
    c.heartbeat(f"approval-{order}")
    c.reject_hook({"token": f"approval-{order}"}, "OrderRejected", "out of stock")
    out = dev.finished(exe)
    assert (out["status"], out["error"], out["cause"]) == ("FAILED", "OrderRejected", "out of stock")


def all_pages(c, machine, **options):
    """Every page of a state machine's hooks with options, each passing the
    previous page's cursor: (the hooks in order, the number of pages)."""
    hooks, pages, cursor = [], 0, None
    while True:
        page = c.list_state_machine_hooks(machine, cursor=cursor, **options)
        assert len(page["hooks"]) <= options.get("limit", 25), page
        hooks += page["hooks"]
        pages += 1
        assert pages <= 50, "the cursor comes to an end"
        cursor = page.get("cursor")
        if not cursor:
            return hooks, pages


def tokens(hooks):
    return [h["token"] for h in hooks]


def test_operators_list_state_machine_and_dispose(dev):
    """SigV4: a state machine's hooks across executions by tag, state and age,
    paged; dispose_hook removes one."""
    c = sh.Client(dev.api, auth="sigv4", region="us-east-1")
    # A state machine of its own: its listing holds this test's hooks only.
    machine = dev.machine(uniq("ops"), "collect.asl.json")
    wa, wb = uniq("wa"), uniq("wb")
    exe_a = dev.start_sdk(machine, {"token": wa, "count": 1, "pauseSeconds": 0})
    parked(c, wa)
    exe_b = dev.start_sdk(machine, {"token": wb, "count": 1, "pauseSeconds": 0})
    parked(c, wb)
    # Created one after the other: their ages are in this order.
    a1, a2, b1, b2 = uniq("a1"), uniq("a2"), uniq("b1"), uniq("b2")
    dev.hook_task({"action": "create", "token": a1, "executionArn": exe_a, "tags": ["team:billing", "customer:acme"]})
    dev.hook_task({"action": "create", "token": a2, "executionArn": exe_a, "tags": ["customer:other"]})
    dev.hook_task({"action": "create", "token": b1, "executionArn": exe_b, "tags": ["customer:acme"]})
    dev.hook_task({"action": "create", "token": b2, "executionArn": exe_b, "tags": ["customer:acme"]})
    c.resume_hook(b1, {"n": 1})  # no await on b1: stored, b1 is pending

    oldest = [wa, wb, a1, a2, b1, b2]
    # The index is eventually consistent: wait for the six, then the listings are exact.
    until("the six hooks listed", lambda: len(all_pages(c, machine)[0]) == 6)
    hooks, pages = all_pages(c, machine, order="oldest", limit=2)
    assert tokens(hooks) == oldest
    assert pages >= 3
    assert tokens(all_pages(c, machine, limit=4)[0]) == oldest[::-1], "newest first by default"

    acme, pages = all_pages(c, machine, tag="customer:acme", order="oldest", limit=1)
    assert tokens(acme) == [a1, b1, b2]
    assert pages >= 3
    assert acme[0]["tags"] == ["customer:acme", "team:billing"], "sorted"
    assert (acme[0]["executionArn"], acme[0]["runId"]) == (exe_a, exe_a)
    assert (acme[1]["executionArn"], acme[1]["pending"]) == (exe_b, 1)
    assert tokens(all_pages(c, machine, tag="customer:acme", order="newest", limit=1)[0]) == [b2, b1, a1]

    waiting, _ = all_pages(c, machine, state="waiting", order="oldest")
    assert tokens(waiting) == [wa, wb]
    assert all(h["waiting"] and h["pending"] == 0 for h in waiting)
    assert tokens(all_pages(c, machine, state="pending")[0]) == [b1]
    assert tokens(all_pages(c, machine, state="idle", order="oldest")[0]) == [a1, a2, b2]
    assert tokens(all_pages(c, machine, state="idle", tag="customer:acme", order="oldest", limit=1)[0]) == [a1, b2]

    # A cursor is only good for its own listing.
    first = c.list_state_machine_hooks(machine, order="oldest", limit=1)
    assert first.get("cursor")
    with pytest.raises(sh.InvalidRequestError) as e:
        c.list_state_machine_hooks(machine, order="newest", limit=1, cursor=first["cursor"])
    assert e.value.status == 400

    # Dispose a2: gone for GET and from the listing; again, it is already gone: success.
    c.dispose_hook(a2, exe_a)
    with pytest.raises(sh.HookNotFoundError) as nf:
        c.get_hook(a2)
    assert nf.value.status == 404
    c.dispose_hook(a2, exe_a)
    assert tokens(all_pages(c, machine, order="oldest")[0]) == [wa, wb, a1, b1, b2]

    # Given as listed, only that hook is disposed (its hookId): a hook of another id under the token (as if
    # exe_a had disposed it and created it again since) raises HookConflictError, and nothing changes.
    with pytest.raises(sh.HookConflictError) as hc:
        c.dispose_hook(dict(waiting[0], hookId="0" * 32))
    assert hc.value.status == 409
    assert c.get_hook(waiting[0]["token"])["waiting"] is True

    # Dispose the hook exe_a waits on, given as listed (its executionArn): the await fails with HookDisposedError.
    c.dispose_hook(waiting[0])
    out = dev.finished(exe_a)
    assert (out["status"], out["error"]) == ("FAILED", "HookDisposedError")
    c.resume_hook(wb, {"done": True})
    out = dev.finished(exe_b)
    assert out["status"] == "SUCCEEDED"
    assert out["output"]["received"] == [{"done": True}]

    # A malformed stateMachineArn (an execution's), and a dispose without its execution.
    with pytest.raises(sh.InvalidRequestError) as e:
        c.list_state_machine_hooks(exe_a)
    assert (e.value.status, e.value.code) == (400, "InvalidRequest")
    with pytest.raises(sh.InvalidRequestError):
        c.dispose_hook(b2, "")


def webhook_of(dev, exe):
    c = sh.Client(dev.api)
    return until("the execution's webhook",
                 lambda: next((h["token"] for h in c.list_hooks(exe)["hooks"] if h["kind"] == "webhook"), None))


def test_webhook_static(dev):
    exe = dev.start_sdk(dev.machine("webhook", "webhook.asl.json"), {
        "respondWith": {"status": 201, "headers": {"content-type": "text/plain", "x-static": "yes"}, "body": "thanks"},
        "pauseSeconds": 0, "respondAfterSeconds": 0, "respond": False})
    token = webhook_of(dev, exe)
    resp = sh.Client(dev.api).resume_webhook(token, sh.WebhookRequest(
        method="POST", headers={"content-type": "application/json", "x-provider": "acme"}, body='{"paid":true}',
        query="order=7"))
    assert (resp.status, resp.headers["x-static"], resp.text()) == (201, "yes", "thanks")
    out = dev.finished(exe)
    assert out["status"] == "SUCCEEDED"
    req = out["output"]["request"]
    assert (req["method"], req["body"], req["headers"]["x-provider"]) == ("POST", '{"paid":true}', ["acme"])
    assert req["url"].endswith("?order=7")


@pytest.mark.parametrize("name", ["HTTP API", "Lambda invoke"])
def test_webhook_manual(dev, name):
    c = sh.Client(dev.api) if name == "HTTP API" else direct(dev)
    exe = dev.start_sdk(dev.machine("webhook", "webhook.asl.json"), {
        "respondWith": "manual", "pauseSeconds": 0, "respondAfterSeconds": 0, "respond": True,
        "response": {"status": 200, "headers": {"content-type": "application/json"}, "body": '{"ok":true,"by":"workflow"}'}})
    token = webhook_of(dev, exe)
    resp = c.resume_webhook(token, method="PUT", body=b"hello")
    assert resp.status == 200
    assert resp.json() == {"ok": True, "by": "workflow"}
    out = dev.finished(exe)
    assert out["status"] == "SUCCEEDED"
    assert (out["output"]["request"]["method"], out["output"]["request"]["body"]) == ("PUT", "hello")


def payment_headers(dev, body: str, bad: bool = False):
    msg, ts = uniq("msg"), str(int(time.time()))
    key = base64.b64decode(dev.state["paymentSecret"]["value"].removeprefix("whsec_"))
    sig = base64.b64encode(hmac.new(key, f"{msg}.{ts}.{body}".encode(), hashlib.sha256).digest()).decode()
    if bad:
        sig = "A" + sig[1:] if sig[0] != "A" else "B" + sig[1:]
    return {"content-type": "application/json", "webhook-id": msg, "webhook-timestamp": ts, "webhook-signature": f"v1,{sig}"}


def test_payment_webhook_verified_manual(dev):
    c = sh.Client(dev.api)
    checkout = uniq("co")
    exe = dev.start("payment", {"checkoutId": checkout})
    token = webhook_of(dev, exe)
    body = json.dumps({"checkoutId": checkout, "amount": 4200})
    with pytest.raises(sh.InvalidSignatureError) as bad:
        c.resume_webhook(token, method="POST", headers=payment_headers(dev, body, bad=True), body=body)
    assert bad.value.status == 401
    resp = c.resume_webhook(token, method="POST", headers=payment_headers(dev, body), body=body)
    assert (resp.status, resp.text()) == (200, "OK")
    out = dev.finished(exe)
    assert out["status"] == "SUCCEEDED"
    assert out["output"] == {"checkoutId": checkout, "payment": {"checkoutId": checkout, "amount": 4200}}


def test_sealed_resume(dev):
    c = sh.Client(dev.api)
    order = uniq("py")
    exe = dev.start("sealed-approval", {"orderId": order})
    parked(c, f"approval-{order}")
    with pytest.raises(sh.EncryptionKeyRefusedError):
        c.resume_hook(f"approval-{order}", {"approved": False}, encryption_key_override="alias/not-the-hooks-key")
    hook = c.resume_hook(f"approval-{order}", {"approved": True, "card": "4242"}, encryption_key_override=dev.state["kmsKeyArn"])
    assert hook["encrypt"]["kmsKeyId"] == dev.state["kmsKeyArn"]
    out = dev.finished(exe)
    assert out["status"] == "SUCCEEDED"
    assert out["output"]["sealed"]["sfnhooks:sealed"] == 2
    assert "4242" not in json.dumps(out["output"]["sealed"])
    assert out["output"]["opened"]["payload"] == {"approved": True, "card": "4242"}


def collect(dev, count: int, pause: int = 1):
    c = sh.Client(dev.api)
    token = uniq("collect")
    exe = dev.start_sdk(dev.machine("collect", "collect.asl.json"), {"token": token, "count": count, "pauseSeconds": pause})
    until(f"hook {token} created", lambda: c.get_hook(token))
    return token, exe


def test_encryption_key_override_on_plain_hook(dev):
    token, exe = collect(dev, 1, 0)
    sh.Client(dev.api).resume_hook(token, {"secret": "s3cr3t"}, encryption_key_override=dev.state["kmsKeyArn"])
    out = dev.finished(exe)
    env = out["output"]["received"][0]
    assert env["sfnhooks:sealed"] == 2 and env["keyId"] == dev.state["kmsKeyArn"]
    assert "s3cr3t" not in json.dumps(env)


def test_idempotent_retry(dev):
    c = sh.Client(dev.api)
    token, exe = collect(dev, 2)
    key = uniq("key")
    first = c.resume_hook(token, {"n": 1}, idempotency_key=key)
    assert c.resume_hook(token, {"n": 1}, idempotency_key=key)["hookId"] == first["hookId"]
    with pytest.raises(sh.IdempotencyKeyMismatchError) as e:
        c.resume_hook(token, {"n": 99}, idempotency_key=key)
    assert e.value.status == 422
    c.resume_hook(token, {"n": 2})
    out = dev.finished(exe)
    assert out["status"] == "SUCCEEDED"
    assert out["output"]["received"] == [{"n": 1}, {"n": 2}]


class _DropFirstAnswer(http.server.ThreadingHTTPServer):
    """A proxy to make dev that forwards every request but, for the first POST,
    closes the connection instead of answering: a lost answer after an applied
    write, which make dev cannot produce by itself."""

    def __init__(self, target: str) -> None:
        self.target, self.seen, self.dropped = target, [], False
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):  # quiet
                pass

            def _forward(self):
                n = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(n) if n else None
                proxy.seen.append((self.command, self.headers.get("idempotency-key")))
                req = urllib.request.Request(proxy.target + self.path, data=body, method=self.command,
                                             headers={k: v for k, v in self.headers.items() if k.lower() != "host"})
                try:
                    with urllib.request.urlopen(req) as r:
                        status, headers, data = r.status, r.headers, r.read()
                except urllib.error.HTTPError as err:
                    status, headers, data = err.code, err.headers, err.read()
                if self.command == "POST" and not proxy.dropped:
                    proxy.dropped = True
                    self.connection.shutdown(socket.SHUT_RDWR)  # applied; the answer is lost
                    self.close_connection = True
                    return
                self.send_response(status)
                for k, v in headers.items():
                    if k.lower() not in ("transfer-encoding", "connection"):
                        self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _forward

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


def test_transient_failure_retried_without_duplicate(dev):
    token, exe = collect(dev, 2)
    proxy = _DropFirstAnswer(dev.api)
    try:
        hook = sh.Client(proxy.url).resume_hook(token, {"n": 1})
        assert hook["token"] == token
    finally:
        proxy.shutdown()
    sh.Client(dev.api).resume_hook(token, {"n": 2})
    out = dev.finished(exe)
    assert out["status"] == "SUCCEEDED"
    assert out["output"]["received"] == [{"n": 1}, {"n": 2}], "the retried payload was stored once"
    posts = [k for m, k in proxy.seen if m == "POST"]
    assert len(posts) == 2, "one retry after the lost answer"
    assert posts[0] and posts[1] == posts[0], "the retry carries the same idempotency key"


def test_error_classes_over_http(dev):
    c = sh.Client(dev.api)
    exe = fake_execution()
    with pytest.raises(sh.HookNotFoundError) as e:
        c.resume_hook(uniq("unknown"), {})
    assert (e.value.status, e.value.code) == (404, "HookNotFound")
    with pytest.raises(sh.InvalidTokenError):
        c.get_hook("bad\x01token")
    with pytest.raises(sh.InvalidRequestError):
        c.list_hooks("")
    capped = uniq("cap")
    dev.hook_task({"action": "create", "token": capped, "executionArn": exe, "maxPending": 1})
    c.resume_hook(capped, {"n": 1})
    with pytest.raises(sh.TooManyPendingError) as e:
        c.resume_hook(capped, {"n": 2})
    assert (e.value.status, e.value.retry_after) == (429, 5)
    with pytest.raises(sh.HookNotWaitingError):
        c.heartbeat(capped)
    with pytest.raises(sh.InvalidPayloadError):
        c.reject_hook(capped, "")
    big = uniq("big")
    dev.hook_task({"action": "create", "token": big, "executionArn": exe})
    with pytest.raises(sh.PayloadTooLargeError) as e:
        c.resume_hook(big, {"blob": "x" * (300 * 1024)})
    assert e.value.status == 413
    typed = uniq("schema")
    dev.hook_task({"action": "create", "token": typed, "executionArn": exe,
                   "schema": {"type": "object", "required": ["approved"], "properties": {"approved": {"type": "boolean"}}}})
    with pytest.raises(sh.SchemaValidationError) as e:
        c.resume_hook(typed, {"approved": "yes"})
    assert e.value.status == 422 and e.value.details
    assert c.resume_hook(typed, {"approved": True})["token"] == typed
    with pytest.raises(sh.HookNotFoundError):
        c.resume_webhook(uniq("nowebhook"), body="{}")
    slow = dev.hook_task({"action": "createWebhook", "executionArn": exe, "respondWith": {"mode": "manual", "deadlineMs": 500}})
    with pytest.raises(sh.WebhookResponseTimeoutError) as e:
        c.resume_webhook(slow["token"], body="{}")
    assert e.value.status == 504


def test_error_classes_over_direct_invoke(dev):
    c = direct(dev)
    exe = fake_execution()
    with pytest.raises(sh.HookNotFoundError) as e:
        c.resume_hook(uniq("unknown"), {})
    assert e.value.status == 404
    capped = uniq("cap")
    dev.hook_task({"action": "create", "token": capped, "executionArn": exe, "maxPending": 1})
    c.resume_hook(capped, 1)
    with pytest.raises(sh.TooManyPendingError) as e:
        c.resume_hook(capped, 2)
    assert e.value.retry_after == 5
    with pytest.raises(sh.HookNotWaitingError):
        c.heartbeat(capped)
    assert c.get_hook(capped)["pending"] == 1
    assert len(c.list_hooks(exe)["hooks"]) == 1
    with pytest.raises(sh.HookNotFoundError):
        c.resume_webhook(uniq("nowebhook"), body="{}")


def test_list_state_machine_and_dispose_over_direct_invoke(dev):
    c = direct(dev)
    exe = fake_execution()  # of state machine sfnhooks-clients-py
    machine = exe.replace(":execution:", ":stateMachine:").rsplit(":", 1)[0]
    tag = f"run:{uniq('d')}"
    t1, t2 = uniq("d1"), uniq("d2")
    dev.hook_task({"action": "create", "token": t1, "executionArn": exe, "tags": [tag]})
    dev.hook_task({"action": "create", "token": t2, "executionArn": exe, "tags": [tag]})
    until("both listed", lambda: len(all_pages(c, machine, tag=tag)[0]) == 2)
    hooks, _ = all_pages(c, machine, tag=tag, order="oldest", limit=1)
    assert tokens(hooks) == [t1, t2]
    c.dispose_hook(hooks[0])  # its executionArn
    with pytest.raises(sh.HookNotFoundError):
        c.get_hook(t1)
    assert tokens(all_pages(c, machine, tag=tag)[0]) == [t2]
    with pytest.raises(sh.InvalidRequestError):
        c.list_state_machine_hooks("not-an-arn")
