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

Five defects of moto 5.2.5's Step Functions are patched as well, so that
executions answer as on AWS (see _patch_step_functions and
_patch_stop_execution): SendTaskFailure keeps its cause, a task that misses
its HeartbeatSeconds fails with States.HeartbeatTimeout, a waitForTaskToken
task completed by its token is not failed by the Lambda invocation that errs
afterwards, SendTaskHeartbeat accepts any open task and answers a closed one
as closed, and StopExecution aborts an execution at once (its task
tokens then answer TaskTimedOut).

Usage: python moto_server.py -H HOST -p PORT   (as moto_server)
"""

import argparse
import functools
import inspect
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


def _patch_step_functions() -> None:
    """Make moto's Step Functions answer as AWS does on four points.

    - SendTaskFailure: moto's response handler reads taskToken and error
      and drops cause, so a Catch sees "Cause": "" and the history's
      TaskFailed has no cause. AWS keeps it (sfnhooks' reject relies on it).
    - HeartbeatSeconds: moto times the heartbeat out correctly but names the
      error States.Timeout; AWS fails the task with States.HeartbeatTimeout.
    - lambda:invoke.waitForTaskToken: moto waits for the token only after the
      Lambda invocation returned, so an invocation that fails after a
      SendTaskSuccess (or SendTaskFailure) of its token already completed
      the task (an await that sent a stored payload to its own task and
      then crashed) fails the task with Lambda.Unknown and retries it: the
      output is lost. On AWS the token's answer closes the task and the
      invocation's later error changes nothing. Here, an invocation error
      with the token's outcome already in hand lets the task end with that
      outcome.
    - SendTaskHeartbeat: see below.
    """
    from moto.core.responses import EmptyResult
    from moto.stepfunctions import responses
    from moto.stepfunctions.parser.api import HistoryEventType, TaskTimedOutEventDetails
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEvent
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task import StateTask
    from moto.stepfunctions.parser.asl.eval.callback.callback import HeartbeatTimeoutError
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

    def send_task_failure(self):
        backend = self.stepfunction_backend
        kwargs = {"error": self._get_param("error")}
        if "cause" in inspect.signature(backend.send_task_failure).parameters:
            kwargs["cause"] = self._get_param("cause")
        backend.send_task_failure(self._get_param("taskToken"), **kwargs)
        return EmptyResult()

    responses.StepFunctionResponse.send_task_failure = send_task_failure

    from_error = StateTask._from_error

    def _from_error(self, env, ex):
        if isinstance(ex, HeartbeatTimeoutError):
            name = StatesErrorNameType.StatesHeartbeatTimeout
            return FailureEvent(
                env=env,
                error_name=StatesErrorName(typ=name),
                event_type=HistoryEventType.TaskTimedOut,
                event_details=EventDetails(
                    taskTimedOutEventDetails=TaskTimedOutEventDetails(error=name.to_name())
                ),
            )
        return from_error(self, env, ex)

    StateTask._from_error = _from_error

    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_lambda import (
        StateTaskServiceLambda,
    )

    lambda_task = StateTaskServiceLambda._eval_service_task

    def _eval_service_task(self, env, resource_runtime_part, normalised_parameters, state_credentials):
        try:
            return lambda_task(self, env, resource_runtime_part, normalised_parameters, state_credentials)
        except Exception:
            token = (env.states.context_object.context_object_data.get("Task") or {}).get("Token")
            endpoint = env.callback_pool_manager.get(token) if token else None
            if endpoint is None or endpoint.get_outcome() is None:
                raise
            # The token answered first: the task ends with that answer (the
            # integration pattern finds it waiting), not with this error.
            env.stack.append({"StatusCode": 200})

    StateTaskServiceLambda._eval_service_task = _eval_service_task

    # SendTaskHeartbeat: moto answers InvalidToken for an open task whose
    # state has no HeartbeatSeconds (it only finds tokens with a heartbeat
    # timer), and success for a task already answered by its token while
    # its execution runs on. AWS accepts a heartbeat for any open callback
    # task (without HeartbeatSeconds it has no effect) and answers
    # TaskTimedOut for one that is closed (here TaskDoesNotExist: moto's
    # send_task_heartbeat names every consumer error so). An await checks its
    # own task this way before it supersedes another (docs/protocol.md,
    # "Await").
    from moto.stepfunctions.parser.asl.eval.callback.callback import (
        CallbackConsumerTimeout,
        CallbackNotifyConsumerError,
        CallbackPoolManager,
    )

    def heartbeat(self, callback_id):
        endpoint = self._pool.get(callback_id, None)
        if endpoint is None:
            return False
        if endpoint.consumer_error is not None:
            raise CallbackNotifyConsumerError(callback_consumer_error=endpoint.consumer_error)
        if endpoint.get_outcome() is not None:
            raise CallbackNotifyConsumerError(callback_consumer_error=CallbackConsumerTimeout())
        endpoint.notify_heartbeat()
        return True

    CallbackPoolManager.heartbeat = heartbeat


def _patch_stop_execution() -> None:
    """StopExecution aborts at once, as on AWS.

    moto 5.2.5 only marks the program stopped: an execution that waits for a
    task token stays RUNNING until that task ends (its token is still
    accepted, and the execution then ends ABORTED, or FAILED when the
    task's Lambda invocation was still running). So on make dev a resume
    after StopExecution answered 200 where AWS answers 404 and the hook is
    disposed. AWS: the execution is ABORTED at once, ExecutionAborted ends
    its history, and its task tokens answer TaskTimedOut.

    Here the stop also closes every callback endpoint of the execution (a
    later SendTaskSuccess, SendTaskFailure or SendTaskHeartbeat of its
    tokens answers TaskTimedOut), writes ExecutionAborted, sets the status,
    and keeps both: what the interpreter's thread does when its task ends
    (a Lambda invocation returning, the woken wait) writes no more events
    and changes no status.
    """
    from moto.core.exceptions import AWSError
    from moto.stepfunctions.parser import models
    from moto.stepfunctions.parser.api import (
        ExecutionAbortedEventDetails,
        ExecutionStatus,
        HistoryEventType,
    )
    from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackConsumerTimeout
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
    from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager
    from moto.stepfunctions.parser.backend import execution as execution_module

    class TaskTimedOut(AWSError):
        # moto's own TaskTimedOut cannot be raised without a message
        # (a TypeError, answered 500): this one can, and models.py raises it.
        TYPE = "TaskTimedOut"
        STATUS = 400

        def __init__(self, message: str = "Task Timed Out: 'Provided task does not exist anymore'"):
            super().__init__(message)

    class TaskDoesNotExist(AWSError):
        TYPE = "TaskDoesNotExist"
        STATUS = 400

        def __init__(self, message: str = "Task Does Not Exist: 'Provided task does not exist'"):
            super().__init__(message)

    models.TaskTimedOut = TaskTimedOut
    models.TaskDoesNotExist = TaskDoesNotExist

    add_event = EventManager.add_event

    def guarded_add_event(self, context, *args, **kwargs):
        if getattr(self, "_sfnhooks_closed", False):
            return context.last_published_event_id  # the execution was stopped: nothing follows ExecutionAborted
        return add_event(self, context, *args, **kwargs)

    EventManager.add_event = guarded_add_event

    Execution = execution_module.Execution
    stop = Execution.stop

    def stop_at_once(self, stop_date, error, cause):
        worker = self.exec_worker
        running = worker is not None and self.exec_status == ExecutionStatus.RUNNING
        stop(self, stop_date=stop_date, error=error, cause=cause)
        if not running:
            return
        env = worker.env
        for endpoint in list(env.callback_pool_manager._pool.values()):
            if endpoint.get_outcome() is None:
                endpoint.report(CallbackConsumerTimeout())
            endpoint.interrupt_all()
        manager = env.event_manager
        manager._sfnhooks_closed = True
        env.event_history_context.source_event_id = 0
        add_event(
            manager,
            context=env.event_history_context,
            event_type=HistoryEventType.ExecutionAborted,
            event_details=EventDetails(
                executionAbortedEventDetails=ExecutionAbortedEventDetails(error=error or None, cause=cause or None)
            ),
        )
        self._sfnhooks_stopped = True
        self.exec_status = ExecutionStatus.ABORTED
        self.stop_date = stop_date

    Execution.stop = stop_at_once

    comm = execution_module.BaseExecutionWorkerCommunication
    reflect = comm._reflect_execution_status

    def keep_aborted(self):
        if getattr(self.execution, "_sfnhooks_stopped", False):
            return  # ABORTED at StopExecution, whatever the task did since
        reflect(self)

    comm._reflect_execution_status = keep_aborted

    def stopped_token(backend, token):
        for execution in backend._get_executions():
            worker = getattr(execution, "exec_worker", None)
            if getattr(execution, "_sfnhooks_stopped", False) and worker is not None:
                if worker.env.callback_pool_manager.get(token) is not None:
                    return True
        return False

    for name in ("send_task_success", "send_task_failure", "send_task_heartbeat"):
        original = getattr(models.StepFunctionsParserBackend, name)

        @functools.wraps(original)  # its signature: send_task_failure's handler looks for "cause"
        def answer(self, task_token, *args, _original=original, **kwargs):
            # A stopped execution's token is a timed-out task's on AWS. moto
            # looks for it among RUNNING executions only (InvalidToken), or
            # answers TaskDoesNotExist for any closed endpoint (it tests the
            # wrapper exception, not the consumer error it carries).
            if stopped_token(self, task_token):
                raise TaskTimedOut()
            return _original(self, task_token, *args, **kwargs)

        setattr(models.StepFunctionsParserBackend, name, answer)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    args = parser.parse_args()
    # Exit at once: with sys.exit the process outlived SIGTERM (stack.sh down
    # waited 10 s, then killed it). The emulator keeps nothing to flush.
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    signal.signal(signal.SIGINT, lambda *_: os._exit(0))
    _patch_step_functions()
    _patch_stop_execution()
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(args.host, args.port, linearizable(app), threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
