"""moto server for the offline stack, with DynamoDB made linearizable.

moto's server is threaded and its DynamoDB backend takes no locks: two
concurrent conditional writes to one item can both pass their conditions,
and a canceled TransactWriteItems restores a copy of the whole table taken
before it began, undoing writes that other requests made meanwhile. Real
DynamoDB serializes writes to an item and isolates transactions, and the
hook protocol (docs/protocol.md) relies on exactly that. So this launcher
runs moto's own WSGI application behind one lock for DynamoDB requests
(X-Amz-Target: DynamoDB_20120810.*); every other service stays concurrent
(Step Functions executions call back into the server while they run).

Usage: python moto_server.py -H HOST -p PORT   (as moto_server)
"""

import argparse
import os
import signal
import threading

from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)

_dynamodb = threading.Lock()


def linearizable(app):
    def wrapped(environ, start_response):
        if not environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            return app(environ, start_response)
        with _dynamodb:
            # Produce the whole body under the lock: the write happens while
            # the response is built.
            return list(app(environ, start_response))

    return wrapped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    args = parser.parse_args()
    # Exit at once: with sys.exit the process outlived SIGTERM (stack.sh down
    # waited 10 s, then killed it). The emulator keeps nothing to flush.
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    signal.signal(signal.SIGINT, lambda *_: os._exit(0))
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(args.host, args.port, linearizable(app), threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
