"""sfnhooks client: resume AWS Step Functions executions paused on a hook.

    from sfnhooks_client import resume_hook
    resume_hook("approval-42", {"approved": True})

docs/openapi.yaml of the sfnhooks repository is the contract.
"""

from .client import (
    Client,
    WebhookRequest,
    WebhookResponse,
    configure,
    dispose_hook,
    get_hook,
    heartbeat,
    is_transient,
    list_hooks,
    list_state_machine_hooks,
    reject_hook,
    resume_hook,
    resume_webhook,
)
from .errors import *  # noqa: F401,F403 - the typed errors
from .errors import ERROR_CLASSES, ERROR_STATUS, ROUTES, SfnhooksError

__all__ = [
    "Client", "WebhookRequest", "WebhookResponse", "configure", "dispose_hook", "get_hook", "heartbeat",
    "is_transient", "list_hooks", "list_state_machine_hooks", "reject_hook", "resume_hook", "resume_webhook", "SfnhooksError", "ERROR_CLASSES",
    "ERROR_STATUS", "ROUTES",
] + [cls.__name__ for cls in ERROR_CLASSES.values()]
