"""The one tool loop: the text and the token loops, sync and async, all run the
sequence written here.

Theory of operation
-------------------
A loop is the same whatever it reads and however it waits: begin a turn, read the
sample into the session until the session says stop (closing the sampler's
iterator, so the engine can cancel), cut the turn, then either end the loop or run
the turn's tools, append their results and begin the next turn.  ``_steps`` is
that sequence, once: a generator that moves the session (which does no I/O) and
yields the loop's own events and two requests, *read the sample* and *run the
tools*.  ``drive`` carries the requests out with plain calls and threads,
``adrive`` with ``await``; they hold no decision of their own, so the sync and async
loops cannot disagree.  The chunks of a sample are read in the runner, not through
the generator: per chunk the runner calls the feed and checks ``stopped``, as a
hand-written loop would, so the sequence costs nothing per chunk.

What differs between the text and the token loops is a ``Loop``: its session
(``TextSession`` in characters, ``TokenSession`` in ids), how a turn calls the
sampler (``sample``; ``asample`` may await what it returns) and what became of the
call (``open``: a stream to read and the function that feeds one item of it, or a
whole sample already taken).  Eager dispatch (the token loop's ``concurrent``) is
the ``dispatch`` a runner hands to ``open``: it starts a call's tool (a thread, or a
task) the moment the call completes, and the runner collects those first.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
    Sized,
)
from dataclasses import dataclass
from functools import partial
from typing import Any, Generic, Protocol, TypeAlias, TypeVar

from ..events import Event, ToolCall
from .renderer_base import ToolResult
from .tools import Launched, Tool, arun_tool, execute_tools, launch_tool
from .turns import TurnEnd

__all__ = [
    "Dispatch",
    "Feed",
    "Loop",
    "LoopSession",
    "adrain_loop",
    "adrive",
    "drain_loop",
    "drive",
]


class LoopSession(Protocol):
    """What the loop needs of a session (``TextSession``, ``TokenSession``)."""

    @property
    def stopped(self) -> bool: ...
    @property
    def calls(self) -> list[ToolCall]: ...
    @property
    def max_steps(self) -> int: ...
    @property
    def turns(self) -> Sized: ...

    def begin(self) -> Event: ...
    def end_of_output(self) -> list[Event]: ...
    def end_turn(self) -> TurnEnd: ...
    def outcome(self, end: TurnEnd) -> str | None: ...
    def finish(self, reason: Any) -> Event: ...
    def record(self, result: ToolResult) -> ToolResult: ...
    def add_results(self, results: list[ToolResult]) -> object: ...


Feed: TypeAlias = Callable[[Any], list[Event]]
"""One streamed item (a chunk, ids) into the session: the events the caller sees."""
Dispatch: TypeAlias = Callable[[ToolCall], object]
"""Starts a completed call's tool at once (eager dispatch)."""
Opened: TypeAlias = tuple[list[Event], Any, Feed | None]
"""The events already known, the stream to read (None when there is none) and its
feed."""

S = TypeVar("S", bound=LoopSession)


@dataclass(slots=True)
class Loop(Generic[S]):
    """One loop's parts: its sampler, session and tools, and how a turn samples."""

    sampler: Callable[[Any], Any]
    session: S
    tools: Mapping[str, Tool]
    timeout: float | None
    concurrent: bool

    def sample(self) -> Any:
        """Call the sampler on the turn's prompt."""
        raise NotImplementedError

    async def asample(self) -> Any:
        """``sample`` for the async loop."""
        return self.sample()

    def open(self, source: Any, dispatch: Dispatch | None) -> Opened:
        """What the sampler returned, made ready to read."""
        raise NotImplementedError


class _Request:
    """What ``_steps`` asks of its runner."""

    __slots__ = ()


class _Read(_Request):
    """Sample the turn's prompt and read the sample into the session."""

    __slots__ = ()


class _Run(_Request):
    """Run the tools of the turn's calls, in call order, into ``results``."""

    __slots__ = ("results",)

    def __init__(self) -> None:
        self.results: list[ToolResult] = []


_READ = _Read()


def _steps(session: LoopSession) -> Iterator[Event | _Request]:
    """The loop's sequence: its events, in order, and the requests between them."""
    while True:
        yield session.begin()
        yield _READ
        end = session.end_turn()
        yield end
        reason = session.outcome(end)
        if reason is not None:
            yield session.finish(reason)
            return
        run = _Run()
        yield run
        session.add_results(run.results)
        if len(session.turns) >= session.max_steps:
            yield session.finish("max_steps")
            return


def _close(iterator: object) -> None:
    close = getattr(iterator, "close", None)
    if close is not None:
        close()


async def _aclose(iterator: object) -> None:
    aclose = getattr(iterator, "aclose", None)
    if aclose is not None:
        await aclose()
    else:
        _close(iterator)


def _launch_into(launched: list[Launched], tools: Mapping[str, Tool], call: ToolCall) -> None:
    launched.append(launch_tool(call, tools))


def drive(loop: Loop[Any]) -> Iterator[Event]:
    """The sync loop: every event as it happens, the last one the loop's end.  Tools
    run as ``tools.execute_tools`` runs them; eager dispatch starts threads."""
    session = loop.session
    launched: list[Launched] = []
    dispatch = partial(_launch_into, launched, loop.tools) if loop.concurrent else None
    for step in _steps(session):
        if not isinstance(step, _Request):
            yield step
        elif isinstance(step, _Run):
            calls, tools = session.calls, loop.tools
            for result in execute_tools(calls, tools, loop.timeout, loop.concurrent, launched):
                step.results.append(session.record(result))
                yield result
        else:
            launched.clear()
            known, stream, feed = loop.open(loop.sample(), dispatch)
            yield from known
            if stream is None:
                continue
            assert feed is not None
            iterator = iter(stream)
            try:
                for item in iterator:
                    yield from feed(item)
                    if session.stopped:
                        break
                else:
                    yield from session.end_of_output()
            finally:
                _close(iterator)  # the engine may cancel; also when our caller stops early


class _Chunks:
    """A plain iterable read by ``async for`` (the async loop takes either)."""

    def __init__(self, source: Iterable[Any]) -> None:
        self.iterator = iter(source)

    def __aiter__(self) -> _Chunks:
        return self

    async def __anext__(self) -> Any:
        try:
            return next(self.iterator)
        except StopIteration:
            raise StopAsyncIteration from None

    async def aclose(self) -> None:
        _close(self.iterator)


def _task_into(
    tasks: list[asyncio.Future[ToolResult]],
    tools: Mapping[str, Tool],
    timeout: float | None,
    call: ToolCall,
) -> None:
    tasks.append(asyncio.ensure_future(arun_tool(call, tools, timeout)))


async def adrive(loop: Loop[Any]) -> AsyncGenerator[Event, None]:
    """The async loop: a stream may be async (closed with ``aclose()`` at the cut) or
    plain; async tools are awaited, plain ones run in a worker thread.  With
    ``concurrent`` each call's task starts as early as eager dispatch starts it (else
    when the turn is cut), and a turn that ends without running them cancels them."""
    session = loop.session
    tools, timeout, concurrent = loop.tools, loop.timeout, loop.concurrent
    tasks: list[asyncio.Future[ToolResult]] = []
    dispatch = partial(_task_into, tasks, tools, timeout) if concurrent else None
    try:
        for step in _steps(session):
            if not isinstance(step, _Request):
                yield step
            elif isinstance(step, _Run):
                calls = session.calls
                if concurrent:
                    tasks += [
                        asyncio.ensure_future(arun_tool(call, tools, timeout))
                        for call in calls[len(tasks) :]
                    ]
                for i, call in enumerate(calls):
                    result = await tasks[i] if concurrent else await arun_tool(call, tools, timeout)
                    step.results.append(session.record(result))
                    yield result
            else:
                tasks.clear()  # the last turn's: all done
                known, stream, feed = loop.open(await loop.asample(), dispatch)
                for event in known:
                    yield event
                if stream is None:
                    continue
                assert feed is not None
                chunks = aiter(stream) if isinstance(stream, AsyncIterable) else _Chunks(stream)
                try:
                    async for item in chunks:
                        for event in feed(item):
                            yield event
                        if session.stopped:
                            break
                    else:
                        for event in session.end_of_output():
                            yield event
                finally:
                    await _aclose(chunks)
    finally:
        for task in tasks:
            task.cancel()  # only those still running: our caller stopped early


E = TypeVar("E", bound=Event)


def drain_loop(events: Iterable[Event], on_event: Callable[[Event], Any] | None, end: type[E]) -> E:
    """Run a loop's events to the end, showing each to ``on_event``: its last event,
    of type ``end``, carries the result (the ``run_*`` form of an ``iter_*`` loop)."""
    last: E | None = None
    for event in events:
        if on_event is not None:
            on_event(event)
        if isinstance(event, end):
            last = event
    assert last is not None
    return last


async def adrain_loop(
    events: AsyncIterable[Event], on_event: Callable[[Event], Any] | None, end: type[E]
) -> E:
    """The async ``drain_loop`` (``on_event`` may be a coroutine function)."""
    last: E | None = None
    async for event in events:
        if on_event is not None:
            shown = on_event(event)
            if inspect.isawaitable(shown):
                await shown
        if isinstance(event, end):
            last = event
    assert last is not None
    return last
