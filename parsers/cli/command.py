"""The ``toolwire`` command: check a recorded or live stream and show its events.

``toolwire validate`` reads a file or stdin in binary, block by block as the bytes
arrive, and feeds them to a parser, so a live pipe shows its events as they are parsed
and a split UTF-8 sequence is the parser's business, not ours.  ``--split`` replays the
same bytes in another chunking, to check a stream (or the parser) for chunk invariance
from the shell.

Exit status: 0 the stream is valid, 1 it is malformed (any ``error`` event, or a
``ParseError`` under ``--strict``), 2 usage or I/O error.  Errors go to stderr as
``FILE:LINE:COL: code: message``, the shape editors and compilers use.

Everything, argparse included, is built inside ``main`` so importing this module has
no side effects.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import sys
from collections.abc import Callable, Iterator
from typing import IO, Any, Literal

from .. import events as ev
from .. import format_info
from .. import formats as format_names
from .. import parser as make_parser
from ..detect import detect_format
from ..errors import ParseError
from ..loop.renderers import renderer_formats

__all__ = ["main"]

EXIT_OK = 0
EXIT_MALFORMED = 1
EXIT_USAGE = 2

DETECT_HEAD = 8192
"""Bytes ``--format auto`` reads at most before it decides."""

READ_SIZE = 65536
"""Largest block taken from the input at once; a live pipe yields less, as it arrives."""

RANDOM_PIECE = (1, 16)
"""Inclusive byte-size range of the pieces ``--split random`` feeds."""

BLANK_HELD = 65536
"""Most whitespace a block's readable line keeps back while it could still turn out to
be a whitespace-only block (not shown); past it the block is shown, so memory stays
bounded whatever the stream."""

Split = Literal["none", "char", "random"]

# Control characters would break the one-line-per-block rendering: show them escaped,
# and escape the backslash too so the rendering stays unambiguous.
_ESCAPES = {c: f"\\x{c:02x}" for c in range(0x20)} | {0x7F: "\\x7f"}
_ESCAPES |= {ord("\\"): "\\\\", ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t"}


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status instead of exiting."""
    ap = _build_argparser()
    try:
        args = ap.parse_args(argv)
    except SystemExit as exc:  # argparse exits on --help and on usage errors
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    out, err = sys.stdout, sys.stderr
    for stream in (out, err):
        # A stream of any language must not die on a terminal that cannot show it.
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    command: Callable[[argparse.Namespace, IO[str], IO[str]], int] = args.command
    try:
        return command(args, out, err)
    except BrokenPipeError:
        # The reader went away (``| head``): stop quietly, and point stdout at devnull
        # so the interpreter's final flush does not raise a second time.
        _silence_stdout()
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


def _build_argparser() -> argparse.ArgumentParser:
    """The argument parser; subcommands map to functions through ``command``."""
    ap = argparse.ArgumentParser(
        prog="toolwire",
        description="Incremental parsing of LLM tool-calling output streams.",
    )
    sub = ap.add_subparsers(dest="subcommand", metavar="COMMAND", required=True)

    validate = sub.add_parser(
        "validate",
        help="parse a stream (file or stdin) and show its events",
        description="Parse a recorded or live stream and show its events as they are "
        "parsed. Exit 0 if valid, 1 if malformed, 2 on usage or I/O error.",
    )
    validate.add_argument(
        "--format",
        default="auto",
        metavar="NAME",
        help="stream format, or auto: detected from the stream's start (default: auto)",
    )
    validate.add_argument(
        "--jsonl", action="store_true", help="print every event as one JSON object per line"
    )
    validate.add_argument(
        "--strict", action="store_true", help="stop at the first error (strict parser)"
    )
    validate.add_argument(
        "--split",
        choices=("none", "char", "random"),
        default="none",
        help="feed the input as read (none), one byte at a time (char), or in random "
        f"pieces of {RANDOM_PIECE[0]}-{RANDOM_PIECE[1]} bytes (random)",
    )
    validate.add_argument(
        "--seed", type=int, default=0, metavar="N", help="seed for --split random (default: 0)"
    )
    validate.add_argument(
        "file", nargs="?", default="-", metavar="FILE", help="input file, or - for stdin"
    )
    validate.set_defaults(command=_validate)

    check = sub.add_parser(
        "check",
        help="check every record of a dataset or rollout log (JSONL, JSON array, Parquet)",
        description="Check every record: a field holding a raw stream (--field) or the "
        "OpenAI-style messages of a conversation (the default). Prints the failing "
        "records and a summary. Exit 0 if every record is valid, 1 if some are not, "
        "2 on usage or I/O error.",
    )
    check.add_argument("data", metavar="DATA", help="dataset file (.jsonl, .json, .parquet) or -")
    check.add_argument(
        "--format",
        default="auto",
        metavar="NAME",
        help="format of the stream fields and assistant texts, or auto (default: auto)",
    )
    check.add_argument(
        "--field",
        metavar="PATH",
        help="dotted path of the field holding the stream (or a messages list); "
        "default: the record's messages",
    )
    check.add_argument(
        "--tools", metavar="FILE", help="JSON tool list for records that have none of their own"
    )
    check.add_argument(
        "--no-schema",
        action="store_true",
        help="do not check call arguments against the tools' JSON Schemas",
    )
    check.add_argument(
        "--input",
        choices=("auto", "jsonl", "json", "parquet"),
        default="auto",
        help="how DATA is stored (default: by extension and first byte)",
    )
    check.add_argument(
        "--jobs", type=int, default=1, metavar="N", help="worker processes (default: 1)"
    )
    check.add_argument("--report", metavar="FILE", help="write the summary as JSON to FILE")
    check.add_argument(
        "--jsonl",
        action="store_true",
        help="print every record's result as one JSON object per line (summary to stderr)",
    )
    check.set_defaults(command=_check)

    formats = sub.add_parser("formats", help="list the supported formats and their models")
    formats.set_defaults(command=_formats)

    demo = sub.add_parser(
        "demo",
        help="run the tool loop on a bundled scripted model with local tools",
        description="Run the tool loop end to end on a bundled scripted model that would "
        "invent its tool results if not stopped: live (stopped at each call, real tools "
        "run, results appended), then the same generation parsed at once.",
    )
    demo.add_argument(
        "--format",
        default="hermes",
        choices=renderer_formats(),
        metavar="NAME",
        help=f"text format the model writes (default: hermes; one of: "
        f"{', '.join(renderer_formats())})",
    )
    demo.add_argument(
        "--chunk-size",
        type=int,
        default=7,
        metavar="N",
        help="characters (ids with --tokens) per chunk the scripted model yields (default: 7)",
    )
    demo.add_argument(
        "--tokens",
        action="store_true",
        help="run the token loop (run_token_tool_loop) on a small built-in tokenizer and "
        "print the trajectory id by id: mask (1 sampled, 0 inserted), scripted logprobs",
    )
    demo.add_argument(
        "--jsonl",
        action="store_true",
        help="with --tokens: one JSON object per line (prompt, turns, tokens, summary)",
    )
    demo.set_defaults(command=_demo)
    return ap


def _demo(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    """The tool-loop demo (``toolwire.cli.demo``)."""
    if args.chunk_size < 1:
        err.write("toolwire: error: --chunk-size must be at least 1\n")
        return EXIT_USAGE
    if args.jsonl and not args.tokens:
        err.write("toolwire: error: --jsonl needs --tokens\n")
        return EXIT_USAGE
    # The loop and the scripted model load only for this command.
    from .demo import run
    from .demo_tokens import run_tokens

    if args.tokens:
        return run_tokens(args.format, out, chunk_size=args.chunk_size, jsonl=args.jsonl)
    return run(args.format, out, chunk_size=args.chunk_size)


def _check(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    """The dataset check (``toolwire.cli.check``), loaded only for this command."""
    from .check import run

    if args.format != "auto" and args.format not in format_names():
        err.write(f"toolwire: error: unknown format {args.format!r}\n")
        return EXIT_USAGE
    return run(args, out, err)


def _formats(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    """List each format id with the models that emit it."""
    infos = [format_info(name) for name in format_names()]
    width = max((len(info.name) for info in infos), default=0)
    for info in infos:
        out.write(f"{info.name:<{width}}  {info.models or info.description}\n")
    out.flush()
    return EXIT_OK


def _validate(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    """Feed the input to a parser block by block and report its events."""
    label = "<stdin>" if args.file == "-" else args.file
    if args.format != "auto":
        try:
            make_parser(args.format)
        except ValueError as exc:
            err.write(f"toolwire: error: {exc}\n")  # the message names the known formats
            return EXIT_USAGE

    if args.file == "-":
        stdin = sys.stdin
        if stdin is None:
            err.write("toolwire: error: no standard input\n")
            return EXIT_USAGE
        source: IO[bytes] = stdin.buffer
    else:
        try:
            source = open(args.file, "rb")  # noqa: SIM115 - closed in the finally below
        except OSError as exc:
            err.write(f"toolwire: error: cannot open {label}: {exc.strerror or exc}\n")
            return EXIT_USAGE

    report = _Report(label, out, err, jsonl=args.jsonl)
    split = _splitter(args.split, args.seed)
    blocks = _blocks(source)
    fmt = args.format
    if fmt == "auto":
        head, blocks = _head(blocks)
        detected = detect_format(head)
        if detected is None:
            err.write(
                f"toolwire: error: cannot tell the format of {label} from its start; "
                "pass --format (toolwire formats lists them)\n"
            )
            if args.file != "-":
                source.close()
            return EXIT_USAGE
        fmt = detected
        err.write(f"toolwire: format: {fmt} (detected)\n")
    parser = make_parser(fmt, strict=args.strict)
    try:
        for block in blocks:
            for piece in split(block):
                report.show(parser.feed(piece))
            report.flush()
        report.show(parser.close())
        report.flush()
    except ParseError as exc:
        # Strict mode: what the failing call parsed first, then the error, like lenient.
        failure = ev.Error(
            code=exc.code, message=exc.message, offset=exc.offset, line=exc.line,
            column=exc.column,
        )  # fmt: skip
        report.show([*exc.events, failure])
        report.flush()
    except OSError as exc:
        if isinstance(exc, BrokenPipeError):
            raise
        report.flush()
        err.write(f"toolwire: error: cannot read {label}: {exc.strerror or exc}\n")
        return EXIT_USAGE
    finally:
        if args.file != "-":
            source.close()
    return EXIT_MALFORMED if report.errors else EXIT_OK


def _head(blocks: Iterator[bytes]) -> tuple[bytes, Iterator[bytes]]:
    """Read blocks until the format can be told (or ``DETECT_HEAD`` bytes, or the
    end); the head, and the blocks again from the first."""
    read: list[bytes] = []
    size = 0
    for block in blocks:
        read.append(block)
        size += len(block)
        if size >= DETECT_HEAD or detect_format(b"".join(read)) is not None:
            break
    head = b"".join(read)
    return head, itertools.chain(read, blocks)


def _blocks(source: IO[bytes]) -> Iterator[bytes]:
    """Yield the input as it becomes available, never waiting to fill a whole block.

    ``read1`` returns after at most one read of the underlying file, so a pipe yields
    each write as soon as it lands; a raw file object's ``read`` behaves the same.
    """
    read: Callable[[int], bytes | None] = getattr(source, "read1", source.read)
    while True:
        block = read(READ_SIZE)
        if not block:  # b"" at end of input (None only for non-blocking files)
            return
        yield block


def _splitter(split: Split, seed: int) -> Callable[[bytes], list[bytes]]:
    """The function that cuts each read block into the pieces fed to the parser.

    ``char`` cuts bytes, not characters, so multi-byte UTF-8 sequences are split too.
    """
    if split == "char":
        return lambda block: [block[i : i + 1] for i in range(len(block))]
    if split == "random":
        rng = random.Random(seed)

        def pieces(block: bytes) -> list[bytes]:
            out: list[bytes] = []
            i = 0
            while i < len(block):
                n = rng.randint(*RANDOM_PIECE)
                out.append(block[i : i + n])
                i += n
            return out

        return pieces
    return lambda block: [block]


class _Report:
    """Renders events: JSON lines, or one compact line per block and per call.

    Deltas are written as they come, so a block's line grows while the stream is live;
    control characters in them are escaped to keep each block on its line.  A block
    of whitespace only (the newlines between ``tags`` tags) says nothing to a reader:
    the readable output waits for a block's first other character before it shows the
    block, and drops it if none comes.  JSON lines keep every event.
    """

    def __init__(self, label: str, out: IO[str], err: IO[str], *, jsonl: bool) -> None:
        self.label = label
        self.out = out
        self.err = err
        self.jsonl = jsonl
        self.errors = 0
        self.open_line: str | None = None
        """The prefix of the block line being written, or None at a line start."""
        self.resume: str | None = None
        """The prefix to write again when an error cut the open block line."""
        self.pending: str | None = None
        """The prefix of a block not shown yet: nothing but whitespace so far."""
        self.blank: list[str] = []
        """That block's whitespace so far (at most ``BLANK_HELD`` characters)."""
        self.blank_size = 0

    def show(self, events: list[ev.Event]) -> None:
        """Write one batch of events."""
        for event in events:
            if isinstance(event, ev.Error):
                self._error(event)
            elif self.jsonl:
                self.out.write(_json_line(event.to_json()))
            else:
                self._render(event)

    def _error(self, error: ev.Error) -> None:
        """Report an error on stderr as FILE:LINE:COL (and on stdout with --jsonl)."""
        self.errors += 1
        if self.jsonl:
            self.out.write(_json_line(error.to_json()))
        elif self.open_line is not None:
            # End the block line first so the terminal does not interleave them.
            self.out.write("\n")
            self.resume, self.open_line = self.open_line, None
        self.out.flush()
        place = (self.label, error.line, error.column)
        where = ":".join(str(part) for part in place if part is not None)
        message = error.message.removesuffix(f" at line {error.line} column {error.column}")
        self.err.write(f"{where}: {error.code}: {message}\n")
        self.err.flush()

    def flush(self) -> None:
        """Push out what was written, so a live stream is shown as it arrives."""
        self.out.flush()

    def _render(self, event: ev.Event) -> None:
        match event:
            case ev.ReasoningStart():
                self._begin("reasoning: ")
            case ev.TextStart():
                self._begin("text: ")
            case ev.ReasoningDelta(text=text) | ev.TextDelta(text=text):
                self._delta(text)
            case ev.ReasoningEnd() | ev.TextEnd():
                if self.open_line is not None:
                    self.out.write("\n")
                self.open_line = self.resume = self.pending = None  # blank: never shown
                self.blank.clear()
            case ev.ToolCall():
                self._line(_describe_call(event))
            case ev.Finish(reason=reason, usage=usage):
                self._line(f"finish: {reason}" + (f" {_json(usage)}" if usage else ""))
            case ev.ToolCallStart() | ev.ToolCallDelta():
                pass  # the complete call is shown once, by its ToolCall event
            case _:
                self._line(_json(event.to_json()))

    def _begin(self, prefix: str) -> None:
        """A block opens: shown at its first character that is not whitespace."""
        if self.open_line is not None:
            self.out.write("\n")
            self.open_line = None
        self.resume = None
        self.pending = prefix
        self.blank.clear()
        self.blank_size = 0

    def _delta(self, text: str) -> None:
        prefix = self.pending
        if prefix is not None:
            if (not text or text.isspace()) and self.blank_size + len(text) <= BLANK_HELD:
                self.blank.append(text)
                self.blank_size += len(text)
                return
            self.pending = None
            self._start(prefix)
            text = "".join(self.blank) + text
            self.blank.clear()
        elif self.open_line is None and self.resume is not None:
            self._start(self.resume)
        self.out.write(text.translate(_ESCAPES))

    def _start(self, prefix: str) -> None:
        if self.open_line is not None:
            self.out.write("\n")
        self.out.write(prefix)
        self.open_line = prefix
        self.resume = None

    def _line(self, text: str) -> None:
        if self.open_line is not None:
            self.out.write("\n")
            self.resume, self.open_line = self.open_line, None
        self.out.write(text + "\n")


def _describe_call(call: ev.ToolCall) -> str:
    """``tool_call #0 name({...}) [start:end]``; ``?`` stands for a name not given; a
    call to a built-in tool of the model ends with `` builtin``."""
    start, end = call.span
    line = f"tool_call #{call.index} {call.name or '?'}({_json(call.arguments)}) [{start}:{end}]"
    return line + " builtin" if call.builtin else line


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _json_line(doc: dict[str, Any]) -> str:
    return _json(doc) + "\n"


def _silence_stdout() -> None:
    """Point fd 1 at devnull so nothing more is written to the closed pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass  # no real file descriptor (captured in tests): nothing will flush to it


if __name__ == "__main__":
    raise SystemExit(main())
