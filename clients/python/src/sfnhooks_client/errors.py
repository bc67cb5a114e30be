"""Typed errors: one class per error code of docs/openapi.yaml (contract.json)."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any, Dict, List, Optional, Tuple, Type

_CONTRACT: Dict[str, Any] = json.loads(resources.files(__package__).joinpath("contract.json").read_text("utf-8"))

#: Every error code the API documents: code -> HTTP status.
ERROR_STATUS: Dict[str, int] = dict(_CONTRACT["errors"])
#: The routes of docs/openapi.yaml this client calls: operationId -> (method, path).
ROUTES: Dict[str, Tuple[str, str]] = {k: (v[0], v[1]) for k, v in _CONTRACT["routes"].items()}
HEADER_IDEMPOTENCY_KEY: str = _CONTRACT["headers"]["idempotencyKey"]
HEADER_ENCRYPTION_KEY: str = _CONTRACT["headers"]["encryptionKey"]

#: The Retry-After of a 429 when the answer has none (a direct invoke): pkg/hooks.RetryAfterSeconds.
DEFAULT_RETRY_AFTER_SECONDS = 5


class SfnhooksError(Exception):
    """An answer of the API other than 2xx.

    ``code`` is the API's error code ("HookNotFound"; "" for an answer of API
    Gateway itself, such as a failed authorization), ``status`` the HTTP
    status (for a direct Lambda invoke, the status the API gives that code).
    """

    def __init__(
        self,
        message: str,
        *,
        code: str = "",
        status: int = 0,
        details: Optional[List[Dict[str, Any]]] = None,
        retry_after: Optional[int] = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.details = details
        self.retry_after = retry_after
        self.body = body


class HookNotFoundError(SfnhooksError): pass
class HookNotWaitingError(SfnhooksError): pass
class InvalidTokenError(SfnhooksError): pass
class InvalidPayloadError(SfnhooksError): pass
class InvalidRequestError(SfnhooksError): pass
class EncryptionKeyRefusedError(SfnhooksError): pass
class NotSealedError(SfnhooksError): pass
class WeakWebhookTokenError(SfnhooksError): pass
class InvalidSignatureError(SfnhooksError): pass
class SealedPayloadRefusedError(SfnhooksError): pass
class MethodNotAllowedError(SfnhooksError): pass
class HookConflictError(SfnhooksError): pass
class ResponseAlreadySentError(SfnhooksError): pass
class PayloadTooLargeError(SfnhooksError): pass
class IdempotencyKeyMismatchError(SfnhooksError): pass
class SchemaValidationError(SfnhooksError):
    """The payload does not match the hook's JSON Schema; ``details`` lists the failed assertions."""
class TooManyPendingError(SfnhooksError):
    """The hook holds as many pending payloads as its cap; retry after ``retry_after`` seconds."""
class TooManyWaitingError(SfnhooksError):
    """A manual webhook holds as many callers as its cap; retry after ``retry_after`` seconds."""
class InternalError(SfnhooksError): pass
class WebhookGoneError(SfnhooksError): pass
class ContentionError(SfnhooksError): pass
class WebhookResponseTimeoutError(SfnhooksError): pass


#: code -> class, one per code of ERROR_STATUS.
ERROR_CLASSES: Dict[str, Type[SfnhooksError]] = {
    "HookNotFound": HookNotFoundError,
    "HookNotWaiting": HookNotWaitingError,
    "InvalidToken": InvalidTokenError,
    "InvalidPayload": InvalidPayloadError,
    "InvalidRequest": InvalidRequestError,
    "EncryptionKeyRefused": EncryptionKeyRefusedError,
    "NotSealed": NotSealedError,
    "WeakWebhookToken": WeakWebhookTokenError,
    "InvalidSignature": InvalidSignatureError,
    "SealedPayloadRefused": SealedPayloadRefusedError,
    "MethodNotAllowed": MethodNotAllowedError,
    "HookConflict": HookConflictError,
    "ResponseAlreadySent": ResponseAlreadySentError,
    "PayloadTooLarge": PayloadTooLargeError,
    "IdempotencyKeyMismatch": IdempotencyKeyMismatchError,
    "SchemaValidation": SchemaValidationError,
    "TooManyPending": TooManyPendingError,
    "TooManyWaiting": TooManyWaitingError,
    "InternalError": InternalError,
    "WebhookGone": WebhookGoneError,
    "Contention": ContentionError,
    "WebhookResponseTimeout": WebhookResponseTimeoutError,
}


def error_for(status: int, body: Any, text: str, retry_after: Optional[str] = None) -> SfnhooksError:
    """The typed error of an API answer: status, parsed JSON body (or None), raw text, Retry-After."""
    raw_code = body.get("error") if isinstance(body, dict) else None
    code: str = raw_code if isinstance(raw_code, str) else ""
    message = (body.get("message") if isinstance(body, dict) else None) or text or f"HTTP {status}"
    cls = ERROR_CLASSES.get(code, SfnhooksError)
    details = body.get("details") if isinstance(body, dict) and isinstance(body.get("details"), list) else None
    after = None
    if status == 429 or code in ("TooManyPending", "TooManyWaiting"):
        try:
            after = int(retry_after or "")
        except ValueError:
            after = None
        if not after or after <= 0:
            after = DEFAULT_RETRY_AFTER_SECONDS
    return cls(f"{code or 'HTTP ' + str(status)}: {message}", code=code, status=status, details=details,
               retry_after=after, body=body if body is not None else text)


def error_for_invoke(error_type: str, error_message: str) -> SfnhooksError:
    """The typed error of a direct invoke's {"errorType","errorMessage"}: errorType is the code + "Error"."""
    code = error_type or ""
    if code not in ERROR_STATUS and code.endswith("Error"):
        code = code[: -len("Error")]
    if code not in ERROR_STATUS:
        return SfnhooksError(f"{error_type}: {error_message}", code=error_type or "", status=0)
    return error_for(ERROR_STATUS[code], {"error": code, "message": error_message}, error_message)
