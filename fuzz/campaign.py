"""A coverage-guided fuzz campaign over every atheris harness, with a report.

``python -m fuzz campaign --minutes N [--families F ...] [--formats F ...|all|none]
[--jobs J] [--out DIR] [--plateau M] [-- libFuzzer flags]``

Runs each family's harness (``fuzz/atheris_<family>.py``) and then, in rotation, each
text format as a fixed target of the ``formats`` harness (``--format F``), one slot
after another, each in libFuzzer's fork mode (``-fork=J -ignore_crashes=1
-ignore_timeouts=1 -ignore_ooms=1``) so that a crash, a timeout or an out-of-memory
input is written to the slot's artifact directory and the run goes on.  Then every
artifact is replayed in-process with the harness's one-rule check (as
``python -m fuzz.reproduce`` does), findings are deduplicated by *exception type +
failing check + innermost toolwire frame*, each finding's smallest input is
minimised (``fuzz/minimize.py``, keeping that key), and ``report.json`` and
``report.md`` are written under the out directory.

Time budget (``--minutes``), with ``--format-share`` S (default 0.5):

* with fixed-format slots (``formats`` among the families and ``--formats`` not
  ``none``): (1 - S) of the budget is split equally between the families and S
  between the fixed-format slots; a format slot gets at least ``MIN_FORMAT_SLOT``
  seconds, so a short budget runs fewer formats, taken in rotation from where the
  last campaign stopped (``<seeds>/campaign-rotation.json``);
* otherwise the whole budget is split equally between the families.

Each slot's libFuzzer gets ``-max_total_time`` = its share (the seed merge at its
start is part of it).  ``--plateau M`` instead runs every slot until its coverage
(``cov`` and ``ft``) has not grown for M minutes, each slot capped at what the budget
has left minus M minutes for every slot after it; a slot that plateaus early leaves
its time to the next.  ``--min-minutes T`` keeps every slot running for at least T
minutes whatever its coverage does (a release run: ``--plateau 5 --min-minutes 30``).
Coverage comes from libFuzzer's status lines; in fork mode the
parent prints one as each job ends, and job J lasts min(J, 300) seconds, so M should
be a few minutes.

A slot **plateaued** when neither ``cov`` nor ``ft`` grew in the last
``--plateau-tail`` fraction (default 0.25) of its wall time and a status line after
the last growth confirms it (a job ended with nothing new); in ``--plateau`` mode,
when it was stopped for not growing for M minutes.

Slots run in order (families, then formats); a slot's time is rescaled to what the
budget has left, so start-up and wrap-up overruns (a few seconds per slot) come out
of the later slots and the campaign keeps to ``--minutes``.

Layout of the out directory (default ``fuzz/campaigns/<UTC time>``, ignored by git):
``corpus/<slot>/`` (what the slot found; seeds are read from ``--seeds``, default
``fuzz/corpus``, written by ``python -m fuzz.seeds`` when missing),
``artifacts/<slot>/`` (crash-, timeout-, oom- files), ``logs/<slot>.log`` (libFuzzer's
output), ``findings/`` (each finding's minimised input), ``report.json``,
``report.md``.  Exit status 1 when there are findings, 2 when a slot could not run.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import resource
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import toolwire
from fuzz.minimize import minimize
from fuzz.targets import FAMILIES, Selected, decode, family_targets

__all__ = [
    "Finding",
    "Sample",
    "Slot",
    "finding_key",
    "main",
    "parse_status",
    "plan",
    "triage",
]

ROOT = Path(__file__).resolve().parent.parent
FUZZ_DIR = Path(__file__).resolve().parent
TOOLWIRE_DIR = Path(toolwire.__file__).resolve().parent

MIN_FORMAT_SLOT = 30.0
"""Seconds: the least a fixed-format slot gets (a harness needs a few seconds to start
and merge its seeds)."""
MAX_LEN = {
    "formats": 2048,
    "providers": 4096,
    "json": 1024,
    "framing": 2048,
    "tokens": 1024,
    "check": 4096,
}
"""libFuzzer's -max_len per family: inputs are fed byte by byte (and the token loop runs
a dozen times per input), so long inputs are slow; provider seeds are cut to 4 KB."""
STARTUP = 5.0
"""Seconds of a slot taken off libFuzzer's -max_total_time for the interpreter's start
and the wrap-up, which libFuzzer does not count."""
ARTIFACT = re.compile(r"^(crash|timeout|oom|leak|slow-unit)-[0-9a-f]+$")
MAX_SAMPLES = 60
"""Coverage samples kept per slot in the report (every change point is a candidate)."""


# -- plan ----------------------------------------------------------------------------


@dataclass
class Slot:
    """One harness run: a family, or the formats family fixed to one format."""

    family: str
    format: str | None
    seconds: float
    """Planned -max_total_time (in --plateau mode: the cap, recomputed when it starts)."""

    @property
    def name(self) -> str:
        return self.family if self.format is None else f"{self.family}@{self.format}"


def _rotation(formats: list[str], count: int, state: Path | None) -> list[str]:
    """``count`` of ``formats``, starting where the previous campaign stopped."""
    if count >= len(formats):
        return formats
    start = 0
    if state is not None and state.is_file():
        with contextlib.suppress(ValueError, KeyError, TypeError):
            start = int(json.loads(state.read_text())["next"]) % len(formats)
    chosen = [formats[(start + i) % len(formats)] for i in range(count)]
    if state is not None:
        state.write_text(json.dumps({"next": (start + count) % len(formats)}) + "\n")
    return chosen


def plan(
    minutes: float,
    families: Sequence[str],
    formats: Sequence[str],
    share: float,
    rotation_state: Path | None = None,
) -> list[Slot]:
    """The slots of a campaign, with their time (see the module docstring)."""
    total = minutes * 60
    formats = list(formats) if "formats" in families else []
    if formats and share > 0:
        n = max(1, min(len(formats), int(total * share // MIN_FORMAT_SLOT)))
        if total * share < MIN_FORMAT_SLOT:
            n = 0
    else:
        n = 0
    chosen = _rotation(formats, n, rotation_state) if n else []
    format_time = total * share if chosen else 0.0
    family_time = (total - format_time) / max(1, len(families))
    slots = [Slot(f, None, family_time) for f in families]
    slots += [Slot("formats", f, format_time / len(chosen)) for f in chosen]
    return slots


# -- running one slot ----------------------------------------------------------------

_STATUS = re.compile(
    r"^#(?P<execs>\d+):?\s+(?:(?P<what>[A-Z]+)\s+)?cov: (?P<cov>\d+) ft: (?P<ft>\d+)"
    r"(?: corp: (?P<corp>\d+))?"
    r"(?:.*?oom/timeout/crash: (?P<oom>\d+)/(?P<timeout>\d+)/(?P<crash>\d+))?"
    r"(?:.*?job: (?P<job>\d+))?"
)


@dataclass
class Sample:
    """One libFuzzer status line: seconds since the slot started, and its counts."""

    t: float
    execs: int
    cov: int
    ft: int
    corpus: int | None = None
    job: int | None = None
    crashes: int | None = None
    timeouts: int | None = None
    ooms: int | None = None


def parse_status(line: str, t: float) -> Sample | None:
    """A status line (``#N: cov: C ft: F corp: K exec/s E oom/timeout/crash: a/b/c
    time: Ts job: J`` in fork mode, ``#N  NEW  cov: C ft: F corp: K/Sb ...``
    otherwise) as a sample, or None."""
    m = _STATUS.match(line)
    if m is None:
        return None

    def num(name: str) -> int | None:
        value = m.group(name)
        return None if value is None else int(value)

    return Sample(
        t=round(t, 2),
        execs=int(m.group("execs")),
        cov=int(m.group("cov")),
        ft=int(m.group("ft")),
        corpus=num("corp"),
        job=num("job"),
        crashes=num("crash"),
        timeouts=num("timeout"),
        ooms=num("oom"),
    )


def last_growth(samples: Sequence[Sample], attr: str = "") -> float | None:
    """When ``cov`` or ``ft`` (or only ``attr``) last grew, in slot seconds."""
    best: dict[str, int] = {}
    when = None
    for s in samples:
        for a in (attr,) if attr else ("cov", "ft"):
            value = getattr(s, a)
            if value > best.get(a, -1):
                best[a] = value
                when = s.t
    return when


def thin(samples: Sequence[Sample], limit: int = MAX_SAMPLES) -> list[Sample]:
    """At most ``limit`` samples: the last of each of ``limit`` equal time buckets,
    every first sample of a new coverage value taking precedence, first and last
    always kept."""
    if len(samples) <= limit:
        return list(samples)
    end = samples[-1].t or 1.0
    buckets: dict[int, Sample] = {}
    for s in samples:
        buckets[min(limit - 2, int(s.t / end * (limit - 2)))] = s
    kept = {id(samples[0]): samples[0], id(samples[-1]): samples[-1]}
    for s in buckets.values():
        kept[id(s)] = s
    return sorted(kept.values(), key=lambda s: s.t)


@dataclass
class SlotResult:
    slot: str
    family: str
    format: str | None
    planned_seconds: float
    seconds: float = 0.0
    execs: int = 0
    exec_per_second: float = 0.0
    cov: int = 0
    ft: int = 0
    corpus: int | None = None
    jobs_run: int | None = None
    last_growth: float | None = None
    cov_last_growth: float | None = None
    ft_last_growth: float | None = None
    plateaued: bool = False
    stopped_for_plateau: bool = False
    artifacts: list[str] = field(default_factory=list)
    exit_code: int | None = None
    error: str | None = None
    log: str = ""
    coverage: list[Sample] = field(default_factory=list)


class _Run:
    """A harness process in its own process group, its output parsed as it comes."""

    def __init__(self, cmd: list[str], env: dict[str, str], log: Path) -> None:
        self.samples: list[Sample] = []
        self.tail: list[str] = []
        self.start = time.monotonic()
        self._log = log.open("w", encoding="utf-8", errors="replace", buffering=1)
        self.proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace")
            t = time.monotonic() - self.start
            self._log.write(f"[{t:8.1f}s] {line}")
            if line.startswith("INFO: Instrumenting"):
                continue
            sample = parse_status(line, t)
            if sample is not None:
                self.samples.append(sample)
            self.tail = [*self.tail[-30:], line.rstrip("\n")]
        self._log.flush()

    def stop(self, grace: float = 15.0) -> None:
        """SIGINT to the group (libFuzzer exits cleanly), then SIGKILL."""
        for sig in (signal.SIGINT, signal.SIGKILL):
            if self.proc.poll() is not None:
                break
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(grace)

    def finish(self) -> int:
        code = self.proc.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)  # no job outlives its parent
        self._reader.join(10)
        self._log.close()
        return code


@dataclass
class Options:
    out: Path
    seeds: Path
    jobs: int
    timeout: int
    rss_limit_mb: int
    max_len: int | None
    plateau: float | None
    tail: float
    extra: list[str]
    min_minutes: float = 0.0

    @classmethod
    def from_args(cls, args: argparse.Namespace, out: Path, extra: list[str]) -> Options:
        """The slots' options from the command line: each field from the option of its
        name (``--seeds``, ``--jobs``, ...), ``tail`` from ``--plateau-tail``, then where
        the campaign writes and the flags it passes on to libFuzzer."""
        own = ("out", "tail", "extra")
        named = {f.name: getattr(args, f.name) for f in fields(cls) if f.name not in own}
        return cls(out=out, tail=args.plateau_tail, extra=extra, **named)


def _slot_corpus(slot: Slot, opts: Options) -> list[Path]:
    """The slot's corpus directories: its own (written) and the seeds (read); a
    fixed-format slot reads only the seeds and finds of its own format."""
    own = opts.out / "corpus" / slot.name
    own.mkdir(parents=True, exist_ok=True)
    if slot.format is None:
        return [own, opts.seeds / slot.family]
    mine = opts.out / "seeds" / slot.name
    mine.mkdir(parents=True, exist_ok=True)
    for source in (opts.seeds / slot.family, opts.out / "corpus" / slot.family):
        if not source.is_dir():
            continue
        for path in sorted(source.iterdir()):
            data = path.read_bytes()
            if data and decode(slot.family, data).target == slot.format:
                (mine / path.name).write_bytes(data)
    return [own, mine]


def _command(slot: Slot, seconds: float, opts: Options) -> list[str]:
    artifacts = opts.out / "artifacts" / slot.name
    artifacts.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", f"fuzz.atheris_{slot.family}"]
    if slot.format is not None:
        cmd += ["--format", slot.format]
    cmd += [str(p) for p in _slot_corpus(slot, opts)]
    words = opts.seeds / f"{slot.family}.dict"
    if words.is_file():
        cmd.append(f"-dict={words}")
    max_len = opts.max_len or MAX_LEN.get(slot.family)
    cmd += [
        f"-fork={opts.jobs}",
        "-ignore_crashes=1",
        "-ignore_timeouts=1",
        "-ignore_ooms=1",
        f"-max_total_time={max(1, round(seconds))}",
        f"-timeout={opts.timeout}",
        f"-rss_limit_mb={opts.rss_limit_mb}",
        f"-artifact_prefix={artifacts}/",
        *([f"-max_len={max_len}"] if max_len else []),
        *opts.extra,
    ]
    return cmd


def run_slot(slot: Slot, opts: Options, remaining_after: int = 0) -> SlotResult:
    """Run one slot to its end (its time, its plateau, or a harness that does not
    start) and summarise it."""
    seconds = slot.seconds
    result = SlotResult(slot.name, slot.family, slot.format, round(seconds, 1))
    log = opts.out / "logs" / f"{slot.name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    result.log = str(log.relative_to(opts.out))
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    env.pop("FUZZ_FORMAT", None)
    # The interpreter's start (~3 s) and the wrap-up are not in libFuzzer's own time.
    cmd = _command(slot, seconds - min(STARTUP, seconds / 4), opts)
    print(f"campaign: {slot.name} for {seconds:.0f} s", file=sys.stderr, flush=True)
    run = _Run(cmd, env, log)
    hard = seconds + 120  # libFuzzer stops itself at -max_total_time; this is a backstop
    plateau = None if opts.plateau is None else opts.plateau * 60
    try:
        while run.proc.poll() is None:
            time.sleep(0.5)
            now = time.monotonic() - run.start
            samples = list(run.samples)
            if samples and samples[-1].execs == 0 and (samples[-1].job or 0) >= 10:
                result.error = "the harness does not start (10 jobs, no input run)"
                run.stop()
            elif plateau is not None and now >= max(plateau, opts.min_minutes * 60):
                grew = last_growth(samples)
                if grew is not None and now - grew >= plateau:
                    result.stopped_for_plateau = True
                    run.stop()
            if now > hard:
                result.error = f"still running {hard:.0f} s after it started: stopped"
                run.stop(5)
    except BaseException:
        run.stop(5)
        raise
    result.exit_code = run.finish()
    result.seconds = round(time.monotonic() - run.start, 1)
    samples = run.samples
    if samples:
        last = samples[-1]
        result.execs, result.cov, result.ft = last.execs, last.cov, last.ft
        result.corpus, result.jobs_run = last.corpus, last.job
        result.exec_per_second = round(last.execs / max(result.seconds, 1e-9), 1)
    elif result.error is None:
        result.error = "no status line from libFuzzer:\n" + "\n".join(run.tail[-10:])
    result.last_growth = last_growth(samples)
    result.cov_last_growth = last_growth(samples, "cov")
    result.ft_last_growth = last_growth(samples, "ft")
    if opts.plateau is not None:
        result.plateaued = result.stopped_for_plateau
    elif result.last_growth is not None:
        # A status line after the last growth shows a job that found nothing new.
        confirmed = any(s.t > result.last_growth for s in samples)
        result.plateaued = confirmed and result.last_growth <= (1 - opts.tail) * result.seconds
    result.coverage = thin(samples)
    artifacts = opts.out / "artifacts" / slot.name
    result.artifacts = sorted(
        str(p.relative_to(opts.out)) for p in artifacts.iterdir() if ARTIFACT.match(p.name)
    )
    return result


# -- triage --------------------------------------------------------------------------


class HarnessTimeout(Exception):
    """The in-process replay ran past its time limit."""


@contextlib.contextmanager
def _guard(seconds: float, memory_mb: int) -> Iterator[None]:
    """Raise HarnessTimeout after ``seconds`` and MemoryError past ``memory_mb`` more
    address space (the replay runs in this process)."""

    def expire(signum: int, frame: Any) -> None:
        raise HarnessTimeout(f"over {seconds:.1f} s")

    previous = signal.signal(signal.SIGALRM, expire)
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    try:
        with open("/proc/self/statm") as f:
            used = int(f.read().split()[0]) * resource.getpagesize()
        limit = used + memory_mb * 2**20
        if hard == resource.RLIM_INFINITY or limit < hard:
            resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (OSError, ValueError):
        pass
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        with contextlib.suppress(OSError, ValueError):
            resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _frame(entry: traceback.FrameSummary, base: Path, line: bool = True) -> str:
    path = Path(entry.filename).resolve()
    where = f"{path.relative_to(base.parent)}:{entry.name}"
    return f"{where}:{entry.lineno}" if line else where


def finding_key(exc: BaseException) -> tuple[str, str, str]:
    """(exception type, failing check, innermost toolwire frame) of a failure.

    The failing check is the chain of frames in the checks (``fuzz/harness.py``,
    ``fuzz/engines.py``, ``fuzz/tokens.py``), innermost first: the assertion that
    failed, or the call out of which an exception escaped.  The toolwire frame is
    ``parsers/<module>.py:<function>:<line>`` (without the line for a timeout, which
    stops wherever the loop was), or ``-``."""
    frames = traceback.extract_tb(exc.__traceback__)
    checks = [
        _frame(f, FUZZ_DIR)
        for f in frames
        if Path(f.filename).resolve().parent == FUZZ_DIR
        and Path(f.filename).name in ("harness.py", "engines.py", "tokens.py")
    ]
    inner = [f for f in frames if Path(f.filename).resolve().is_relative_to(TOOLWIRE_DIR)]
    timeout = isinstance(exc, HarnessTimeout)
    location = _frame(inner[-1], TOOLWIRE_DIR, line=not timeout) if inner else "-"
    return type(exc).__name__, " < ".join(reversed(checks)) or "-", location


@dataclass
class Finding:
    key: tuple[str, str, str]
    kind: str
    """crash, timeout, oom (libFuzzer's artifact kind of the first input found)."""
    family: str
    target: str
    fixed: str | None
    """The format the slot was fixed to (replay with --format), or None."""
    small_limits: bool
    message: str
    artifacts: list[str]
    slots: list[str]
    reproduced: bool = True
    input_size: int = 0
    minimized: str = ""
    minimized_size: int = 0
    minimized_file: str = ""
    regression: str = ""
    reproduce: str = ""


def _replay(selected: Selected, seconds: float, memory_mb: int) -> BaseException | None:
    try:
        with _guard(seconds, memory_mb):
            selected.run()
    except Exception as exc:  # every escape is a failure
        return exc
    return None


def _shrink(
    selected: Selected, key: tuple[str, str, str], seconds: float, per_run: float, memory_mb: int
) -> Selected:
    """The input minimised while it fails with the same key, for ``seconds`` at most."""
    deadline = time.monotonic() + seconds

    class Same(Exception):
        pass

    def check(document: bytes) -> None:
        if time.monotonic() > deadline:
            return
        exc = _replay(replace(selected, document=document), per_run, memory_mb)
        if exc is not None and finding_key(exc) == key:
            raise Same

    return replace(selected, document=minimize(check, selected.document))


def triage(
    artifacts: Sequence[tuple[Path, str, str | None]],
    *,
    timeout: float = 10.0,
    memory_mb: int = 2048,
    minimize_seconds: float = 60.0,
    out: Path | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> list[Finding]:
    """Replay each artifact (path, slot, fixed format) with its family's check,
    group the failures by ``finding_key``, minimise one input per group."""
    found: dict[tuple[str, str, str], Finding] = {}
    inputs: dict[tuple[str, str, str], Selected] = {}
    for path, slot, fixed in artifacts:
        family = slot.split("@")[0]
        kind = path.name.split("-")[0]
        data = path.read_bytes()
        selected = decode(family, data, fixed)
        limit = timeout / 3 if kind == "timeout" else max(30.0, 3 * timeout)
        started = time.monotonic()
        exc = _replay(selected, limit, memory_mb)
        if exc is None:
            took = time.monotonic() - started
            digest = hashlib.sha1(data).hexdigest()[:12]
            key = ("NotReproduced", kind, digest)
            message = f"passes in-process ({took:.2f} s): flaky, or slow only when instrumented"
        else:
            key = finding_key(exc)
            message = (str(exc).strip().splitlines() or [""])[0][:300]
        name = str(path.relative_to(out)) if out is not None else str(path)
        if key in found:
            f = found[key]
            f.artifacts.append(name)
            if slot not in f.slots:
                f.slots.append(slot)
            if len(selected.document) < len(inputs[key].document):
                inputs[key] = selected  # the smallest input stands for the finding
                f.target, f.small_limits, f.fixed = selected.target, selected.small_limits, fixed
            continue
        found[key] = Finding(
            key=key,
            kind=kind,
            family=family,
            target=selected.target,
            fixed=fixed,
            small_limits=selected.small_limits,
            message=f"{key[0]}: {message}" if exc is not None else message,
            artifacts=[name],
            slots=[slot],
            reproduced=exc is not None,
        )
        inputs[key] = selected
        progress(f"finding {len(found)}: {key}")
    for n, (key, finding) in enumerate(found.items(), 1):
        selected = inputs[key]
        finding.input_size = len(selected.document)
        small = selected
        if finding.reproduced and key[0] not in ("HarnessTimeout", "MemoryError"):
            progress(f"minimising finding {n} ({len(selected.document)} bytes)")
            small = _shrink(selected, key, minimize_seconds, max(30.0, 3 * timeout), memory_mb)
        finding.minimized = repr(small.document)
        finding.minimized_size = len(small.document)
        finding.regression = f"{small!r},"
        flag = f" --format {finding.fixed}" if finding.fixed else ""
        first = finding.artifacts[0]
        if out is not None:
            first = str(out / first)
        finding.reproduce = f"python -m fuzz.reproduce {finding.family} {first}{flag}"
        if out is not None:
            folder = out / "findings"
            folder.mkdir(exist_ok=True)
            file = folder / f"{n:02d}-{finding.kind}-{finding.family}-{finding.target}"
            file.write_bytes(small.document)
            finding.minimized_file = str(file.relative_to(out))
    return list(found.values())


# -- report --------------------------------------------------------------------------


def _markdown(report: dict[str, Any]) -> str:
    lines = [
        f"# Fuzz campaign {report['started']}",
        "",
        f"Budget {report['minutes']} min, `-fork={report['jobs']}`, mode {report['mode']}; "
        f"ran {report['seconds'] / 60:.1f} min; {report['total_execs']:,} inputs; "
        f"{len(report['findings'])} finding(s) from {report['artifacts']} artifact(s).",
        "",
        f"Split: {report['split']}",
        "",
        f"Plateau: {report['plateau_rule']}",
        "",
        "## Families",
        "",
        "| family | slots | inputs | seconds | findings |",
        "|---|---:|---:|---:|---:|",
    ]
    for family, row in report["families"].items():
        lines.append(
            f"| {family} | {row['slots']} | {row['execs']:,} | {row['seconds']:.0f} | "
            f"{row['findings']} |"
        )
    lines += [
        "",
        "## Slots",
        "",
        "| slot | planned s | ran s | inputs | exec/s | cov | ft | corpus | last growth s "
        "| plateaued | artifacts | error |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|",
    ]
    for s in report["slots"]:
        error = (s["error"] or "").splitlines()[0] if s["error"] else ""
        lines.append(
            f"| {s['slot']} | {s['planned_seconds']:.0f} | {s['seconds']:.0f} | {s['execs']:,} "
            f"| {s['exec_per_second']} | {s['cov']} | {s['ft']} | {s['corpus']} "
            f"| {s['last_growth']} | {'yes' if s['plateaued'] else 'no'} "
            f"| {len(s['artifacts'])} | {error} |"
        )
    lines += ["", "## Coverage over time", ""]
    for s in report["slots"]:
        points = ", ".join(f"{c['t']:.0f}s: {c['cov']}/{c['ft']}" for c in s["coverage"])
        lines.append(f"- **{s['slot']}** (t: cov/ft): {points or 'none'}")
    lines += ["", "## Findings", ""]
    if not report["findings"]:
        lines.append("None.")
    for n, f in enumerate(report["findings"], 1):
        lines += [
            f"### {n}. {f['kind']} in {f['family']} / {f['target']}"
            + ("" if f["reproduced"] else " (not reproduced in-process)"),
            "",
            f"- key: `{f['key'][0]}` | check `{f['key'][1]}` | at `{f['key'][2]}`",
            f"- message: {f['message']}",
            f"- {len(f['artifacts'])} input(s) from {', '.join(f['slots'])}; "
            f"first `{f['artifacts'][0]}` ({f['input_size']} bytes), minimised to "
            f"{f['minimized_size']} bytes: `{f['minimized_file']}`",
            f"- replay: `{f['reproduce']}`",
            "- regression entry (tests/test_fuzz_regressions.py, FOUND):",
            "",
            "```python",
            f"    {f['regression']}",
            "```",
            "",
        ]
    return "\n".join(lines) + "\n"


def _families_summary(
    slots: Sequence[SlotResult], findings: Sequence[Finding]
) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for s in slots:
        row = out.setdefault(s.family, {"slots": 0, "execs": 0, "seconds": 0.0, "findings": 0})
        row["slots"] += 1
        row["execs"] += s.execs
        row["seconds"] = round(row["seconds"] + s.seconds, 1)
    for f in findings:
        if f.family in out:
            out[f.family]["findings"] += 1
    return out


def write_report(
    out: Path, meta: dict[str, Any], slots: Sequence[SlotResult], findings: Sequence[Finding]
) -> dict[str, Any]:
    report = {
        **meta,
        "seconds": round(sum(s.seconds for s in slots), 1),
        "total_execs": sum(s.execs for s in slots),
        "artifacts": sum(len(s.artifacts) for s in slots),
        "families": _families_summary(slots, findings),
        "slots": [asdict(s) for s in slots],
        "findings": [asdict(f) for f in findings],
    }
    (out / "report.json").write_text(json.dumps(report, indent=1) + "\n", "utf-8")
    (out / "report.md").write_text(_markdown(report), "utf-8")
    return report


# -- command line --------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    extra: list[str] = []
    if "--" in argv:
        at = argv.index("--")
        argv, extra = argv[:at], argv[at + 1 :]
    text_formats = family_targets("formats")
    ap = argparse.ArgumentParser(
        prog="python -m fuzz campaign", description=(__doc__ or "").split("\n")[0]
    )
    ap.add_argument("--minutes", type=float, required=True, help="the whole campaign's budget")
    ap.add_argument("--families", nargs="+", choices=FAMILIES, default=list(FAMILIES))
    ap.add_argument(
        "--formats",
        nargs="+",
        default=["all"],
        help="fixed-format slots of the formats harness: format ids, all (default) or none",
    )
    ap.add_argument("--format-share", type=float, default=0.5, help="budget for format slots")
    ap.add_argument("--jobs", type=int, default=1, help="libFuzzer -fork=J (parallel jobs)")
    ap.add_argument("--out", type=Path, help="default fuzz/campaigns/<UTC time>")
    ap.add_argument("--seeds", type=Path, default=FUZZ_DIR / "corpus")
    ap.add_argument(
        "--plateau", type=float, metavar="M", help="run each slot until no growth for M minutes"
    )
    ap.add_argument(
        "--min-minutes",
        type=float,
        default=0.0,
        metavar="T",
        help="in --plateau mode, never stop a slot for its plateau before T minutes",
    )
    ap.add_argument("--plateau-tail", type=float, default=0.25, help="see 'plateaued'")
    ap.add_argument("--timeout", type=int, default=10, help="libFuzzer -timeout (s per input)")
    ap.add_argument("--rss-limit-mb", type=int, default=2048)
    ap.add_argument("--max-len", type=int, help="libFuzzer -max_len (default per family)")
    ap.add_argument("--minimize-seconds", type=float, default=60.0, help="per finding")
    args = ap.parse_args(argv)

    try:
        import atheris  # noqa: F401
    except ImportError:
        ap.error("the campaign runs the atheris harnesses: pip install atheris")
    if args.formats in (["none"], []):
        formats: list[str] = []
    elif args.formats == ["all"]:
        formats = text_formats
    else:
        unknown = sorted(set(args.formats) - set(text_formats))
        if unknown:
            ap.error(f"unknown formats {unknown}; known: {', '.join(text_formats)}")
        formats = args.formats
    if not 0 <= args.format_share < 1:
        ap.error("--format-share is a fraction in [0, 1)")
    started = dt.datetime.now(dt.UTC)
    out = args.out or FUZZ_DIR / "campaigns" / started.strftime("%Y%m%dT%H%M%SZ")
    out.mkdir(parents=True, exist_ok=True)
    if not all((args.seeds / f).is_dir() for f in args.families):
        from fuzz import seeds

        print(f"campaign: writing seeds to {args.seeds}", file=sys.stderr)
        seeds.write(args.seeds, [f for f in args.families if not (args.seeds / f).is_dir()])
    slots = plan(
        args.minutes,
        args.families,
        formats,
        args.format_share,
        args.seeds / "campaign-rotation.json",
    )
    opts = Options.from_args(args, out, extra)
    budget_end = time.monotonic() + args.minutes * 60
    results: list[SlotResult] = []
    for n, slot in enumerate(slots):
        left = budget_end - time.monotonic()
        if opts.plateau is not None:
            floor = max(opts.plateau, opts.min_minutes) * 60
            slot.seconds = left - floor * (len(slots) - n - 1)
            if slot.seconds < floor:
                slot.seconds = left / (len(slots) - n)
        else:  # overruns (start-up, wrap-up) come out of the slots still to run
            planned = sum(s.seconds for s in slots[n:])
            slot.seconds *= max(0.0, left) / planned if planned > 0 else 0.0
        if slot.seconds < 1:
            continue
        results.append(run_slot(slot, opts))
    artifacts = [(out / a, r.slot, r.format) for r in results for a in r.artifacts]
    findings = triage(
        artifacts,
        timeout=args.timeout,
        memory_mb=args.rss_limit_mb,
        minimize_seconds=args.minimize_seconds,
        out=out,
        progress=lambda m: print(f"campaign: {m}", file=sys.stderr, flush=True),
    )
    split = (
        f"{len(args.families)} families x {results[0].planned_seconds if results else 0:.0f} s"
        if opts.plateau is None
        else f"plateau mode: each slot until no growth for {opts.plateau} min"
        + (f", at least {opts.min_minutes:g} min each" if opts.min_minutes else "")
    )
    fixed = [s for s in slots if s.format is not None]
    if fixed and opts.plateau is None:
        split += (
            f"; {len(fixed)} fixed-format slots x {fixed[0].seconds:.0f} s "
            f"({args.format_share:.0%} of the budget, at least {MIN_FORMAT_SLOT:.0f} s each, "
            f"in rotation: {', '.join(s.format or '' for s in fixed)})"
        )
    meta = {
        "started": started.isoformat(timespec="seconds"),
        "minutes": args.minutes,
        "jobs": args.jobs,
        "mode": "plateau" if opts.plateau is not None else "fixed",
        "split": split,
        "plateau_rule": (
            f"no new cov or ft for {opts.plateau} min (slot stopped)"
            if opts.plateau is not None
            else f"no new cov or ft in the last {args.plateau_tail:.0%} of the slot's wall time"
        ),
        "command": [sys.executable, "-m", "fuzz", "campaign", *(argv or [])],
        "libfuzzer_extra": extra,
    }
    write_report(out, meta, results, findings)
    print(f"campaign: report in {out / 'report.md'} and {out / 'report.json'}", file=sys.stderr)
    if any(r.error for r in results):
        return 2
    return 1 if findings else 0


if __name__ == "__main__":
    raise SystemExit(main())
