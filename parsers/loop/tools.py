"""Running the tools of a turn: a failure of any kind is a result the model reads.

Theory of operation
-------------------
A call's tool is looked up by name and called with the call's arguments as
keywords; an unknown tool, arguments that do not fit, an exception or a timeout
each become an error ``ToolResult`` (``error=True``), never an exception of the
loop.  Three ways to run, all giving results in call order:

* ``execute_tools`` (sync loops): with no timeout and no concurrency each tool runs
  inline in the calling thread; otherwise each runs on a daemon thread of its own
  (``launch_tool``) and ``collect_tool`` waits for it at most until its timeout, so a
  hung tool costs its timeout and no more;
* ``launch_tool`` at a call's ``tool_call`` event (the token loop's eager dispatch),
  collected after the turn;
* ``arun_tool`` (async loops): a coroutine function is awaited, a blocking one runs
  in a worker thread (``asyncio.to_thread``), both under ``asyncio.wait_for``.

A tool's return value is the result's content: a string as it is, anything else as
JSON (``str()`` when it is not JSON-serialisable).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from typing import Any, TypeAlias

from ..events import ToolCall
from .renderer_base import ToolResult

__all__ = [
    "DEFAULT_TIMEOUT",
    "Launched",
    "Tool",
    "arun_tool",
    "collect_tool",
    "execute_tools",
    "launch_tool",
]

DEFAULT_TIMEOUT = 30.0
"""Seconds a tool may run before its result becomes a timeout error."""

Tool: TypeAlias = Callable[..., Any]
"""A tool: a plain or async callable taking the call's arguments as keywords."""


def _content(value: Any) -> str:
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):  # circular structures, and the like
        return repr(value)


def _ok(call: ToolCall, value: Any) -> ToolResult:
    return ToolResult(call=call, value=value, error=None, content=_content(value))


def _failed(call: ToolCall, error: str) -> ToolResult:
    return ToolResult(call=call, value=None, error=error, content=_content({"error": error}))


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _timed_out(call: ToolCall, timeout: float | None) -> ToolResult:
    return _failed(call, f"tool {call.name!r} timed out after {timeout:g} s")


def _resolve(call: ToolCall, tools: Mapping[str, Tool]) -> tuple[Tool, dict[str, Any]] | str:
    """The function and keyword arguments of a call, or why it cannot run."""
    fn = tools.get(call.name) if call.name is not None else None
    if fn is None:
        known = ", ".join(sorted(tools)) or "none"
        return f"unknown tool {call.name!r} (tools: {known})"
    if not isinstance(call.arguments, dict):
        return f"arguments must be an object, not {type(call.arguments).__name__}"
    return fn, call.arguments


def _call_sync(fn: Tool, kwargs: dict[str, Any]) -> Any:
    value = fn(**kwargs)
    if inspect.isawaitable(value):  # an async tool in the sync loop: its own event loop
        return asyncio.run(_awaited(value))
    return value


async def _awaited(value: Awaitable[Any]) -> Any:
    return await value


class _Job:
    """A tool call on a daemon thread, so a tool that hangs past its timeout neither
    blocks the loop nor keeps the interpreter from exiting (Python cannot kill a
    thread: the abandoned call runs on in the background)."""

    def __init__(self, fn: Tool, kwargs: dict[str, Any]) -> None:
        self.value: Any = None
        self.error: BaseException | None = None
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(fn, kwargs), daemon=True)

    def _run(self, fn: Tool, kwargs: dict[str, Any]) -> None:
        try:
            self.value = _call_sync(fn, kwargs)
        except BaseException as exc:  # reported as the call's error result
            self.error = exc
        finally:
            self.done.set()

    def start(self) -> float:
        self.thread.start()
        return time.monotonic()


def _run_inline(call: ToolCall, tools: Mapping[str, Tool]) -> ToolResult:
    resolved = _resolve(call, tools)
    if isinstance(resolved, str):
        return _failed(call, resolved)
    try:
        return _ok(call, _call_sync(*resolved))
    except Exception as exc:
        return _failed(call, _describe(exc))


Launched: TypeAlias = tuple[ToolCall, "_Job | str", float]
"""A call whose tool was started (or why it cannot run) and when it started."""


def launch_tool(call: ToolCall, tools: Mapping[str, Tool]) -> Launched:
    """Start a call's tool on its own thread now; ``collect_tool`` waits for it."""
    resolved = _resolve(call, tools)
    if isinstance(resolved, str):
        return call, resolved, 0.0
    job = _Job(*resolved)
    return call, job, job.start()


def collect_tool(launched: Launched, timeout: float | None) -> ToolResult:
    """The result of a launched call, waiting at most until its timeout runs out."""
    call, job, started = launched
    if isinstance(job, str):
        return _failed(call, job)
    wait = None if timeout is None else max(0.0, started + timeout - time.monotonic())
    if not job.done.wait(wait):
        return _timed_out(call, timeout)
    if job.error is not None:
        return _failed(call, _describe(job.error))
    return _ok(call, job.value)


def execute_tools(
    calls: Sequence[ToolCall],
    tools: Mapping[str, Tool],
    timeout: float | None,
    concurrent: bool,
    started: Sequence[Launched] = (),
) -> Iterator[ToolResult]:
    """Results in call order; with ``concurrent`` every call starts at once, but for
    the first ones, ``started`` already (eager dispatch: ``launch_tool``)."""
    if timeout is None and not concurrent:
        for call in calls:
            yield _run_inline(call, tools)
        return
    if concurrent:
        launched = [*started, *(launch_tool(call, tools) for call in calls[len(started) :])]
        for one in launched:
            yield collect_tool(one, timeout)
    else:
        for call in calls:
            yield collect_tool(launch_tool(call, tools), timeout)


async def _acall(fn: Tool, kwargs: dict[str, Any]) -> Any:
    if inspect.iscoroutinefunction(fn):
        value = await fn(**kwargs)
    else:  # a blocking tool must not block the event loop
        value = await asyncio.to_thread(fn, **kwargs)
    if inspect.isawaitable(value):
        value = await value
    return value


async def arun_tool(call: ToolCall, tools: Mapping[str, Tool], timeout: float | None) -> ToolResult:
    resolved = _resolve(call, tools)
    if isinstance(resolved, str):
        return _failed(call, resolved)
    try:
        return _ok(call, await asyncio.wait_for(_acall(*resolved), timeout))
    except TimeoutError:
        return _timed_out(call, timeout)
    except Exception as exc:
        return _failed(call, _describe(exc))
