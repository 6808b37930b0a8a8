"""Write the seed corpora and dictionaries of the atheris harnesses.

``python -m fuzz.seeds [--out fuzz/corpus] [--per-format 12]`` writes, for each
family (``formats``, ``providers``, ``json``, ``framing``, ``tokens``), a directory of
inputs in the harness layout (selector byte + document, ``fuzz/targets.py``) and a
libFuzzer dictionary ``<family>.dict``.  Sources:

* every grammar: each delimiter alone (literals, and samples of pattern delimiters),
  documents derived from the grammar, calls written by the format's renderer;
* the repository's examples (``examples/*.<format>``) and the shared corpus of real
  model outputs and provider streams ($TOOLWIRE_SHARED/corpus or ../shared/corpus,
  read in place and never copied into the repository), provider streams cut to a few
  kilobytes at event boundaries so that each fuzz input stays fast;
* small hand-written provider streams (Ollama has no recorded one) and JSON edge
  cases;
* for the token loop (``tokens``): per format, scripted turns (a renderer's call, the
  answer after it; grammar documents; real model outputs) as text, and the natural
  ids of the call turn in the ids reading (``fuzz/tokens.py``).

Deterministic: the same tree and corpus give the same files (named by content hash).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path

from fuzz.generate import delimiter_samples, document, encode_text, json_text, rendered_calls
from fuzz.targets import FAMILIES, encode, family_targets

__all__ = ["main", "seeds", "write"]

ROOT = Path(__file__).resolve().parent.parent
MAX_SEED = 4096
"""Largest seed in bytes: libFuzzer's default ``max_len`` is the largest seed, and each
input is fed byte by byte, so long seeds slow every execution."""

_PROVIDER_SEEDS: dict[str, list[bytes]] = {
    "openai-chat": [
        b'data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,'
        b'"delta":{"role":"assistant","content":"Hi"},"finish_reason":null}]}\n\n'
        b'data: {"id":"c1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,'
        b'"id":"call_1","type":"function","function":{"name":"f","arguments":"{\\"a\\""}}]},'
        b'"finish_reason":null}]}\n\n'
        b'data: {"id":"c1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,'
        b'"function":{"arguments":": 1}"}}]},"finish_reason":"tool_calls"}],'
        b'"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}\n\n'
        b"data: [DONE]\n\n",
    ],
    "openai-responses": [
        b'event: response.output_item.added\ndata: {"type":"response.output_item.added",'
        b'"output_index":0,"item":{"type":"function_call","id":"fc_1","call_id":"call_1",'
        b'"name":"f","arguments":""}}\n\n'
        b'event: response.function_call_arguments.delta\ndata: {"type":'
        b'"response.function_call_arguments.delta","output_index":0,"item_id":"fc_1",'
        b'"delta":"{\\"a\\": 1}"}\n\n'
        b'event: response.completed\ndata: {"type":"response.completed","response":'
        b'{"id":"r1","status":"completed","output":[]}}\n\n',
    ],
    "anthropic": [
        b'event: message_start\ndata: {"type":"message_start","message":{"id":"m","type":'
        b'"message","role":"assistant","content":[],"usage":{"input_tokens":1}}}\n\n'
        b'event: content_block_start\ndata: {"type":"content_block_start","index":0,'
        b'"content_block":{"type":"tool_use","id":"t1","name":"f","input":{}}}\n\n'
        b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
        b'"delta":{"type":"input_json_delta","partial_json":"{\\"a\\": 1}"}}\n\n'
        b'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n'
        b'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":'
        b'"tool_use"},"usage":{"output_tokens":5}}\n\n'
        b'event: message_stop\ndata: {"type":"message_stop"}\n\n',
    ],
    "gemini": [
        b'data: {"candidates": [{"content": {"parts": [{"text": "Hi"}, {"functionCall": '
        b'{"name": "f", "args": {"a": 1}}}], "role": "model"}, "finishReason": "STOP"}], '
        b'"usageMetadata": {"promptTokenCount": 1, "totalTokenCount": 2}}\r\n\r\n',
    ],
    "ollama": [
        b'{"model":"m","message":{"role":"assistant","content":"","thinking":"hm"},'
        b'"done":false}\n'
        b'{"model":"m","message":{"role":"assistant","content":"Sure."},"done":false}\n'
        b'{"model":"m","message":{"role":"assistant","content":"","tool_calls":[{"function":'
        b'{"name":"f","arguments":{"a":1}}}]},"done":false}\n'
        b'{"model":"m","message":{"role":"assistant","content":""},"done":true,'
        b'"done_reason":"stop","eval_count":3}\n',
        b'{"model":"m","response":"Hi","done":false}\n{"error":"model not found"}\n',
    ],
}

_JSON_SEEDS = [
    "{}",
    "[]",
    '{"a": [1, -2.5e3, "x\\u00e9\\ud83d\\ude00", true, false, null], "b": {"c": {}}}',
    '  {"name": "f", "arguments": {"city": "Paris"}}  ',
    '"\\"\\\\\\/\\b\\f\\n\\r\\t"',
    "-0.0e-0",
    "123456789012345678901234567890",
    "1e999",
    '"\\ud800"',
    '"\\udc00\\ud800"',
    "[[[[[[[[1]]]]]]]]",
    '{"a":1,"a":2}',
    "01",
    '{"a" 1}',
    "nul",
    '"é😀中"',
]

_FRAMING_SEEDS = [
    b"data: a\n\n",
    b"\xef\xbb\xbfdata: a\r\ndata: b\r\n\r\n",
    b": comment\nevent: e\nid: 7\nretry: 10\ndata\ndata:x\n\n",
    b"data: a\rdata: b\r\r",
    b'{"a": 1}\n\n  \n{"b": 2}\r\n{"c"',
    b"data: \xff\n\n",
    b"id: a\x00b\ndata: z\n\n",
]


def corpus_root() -> Path | None:
    """The shared corpus ($TOOLWIRE_CORPUS, $TOOLWIRE_SHARED/corpus, ../shared/corpus)."""
    for candidate in (
        os.environ.get("TOOLWIRE_CORPUS"),
        os.path.join(os.environ["TOOLWIRE_SHARED"], "corpus")
        if "TOOLWIRE_SHARED" in os.environ
        else None,
        str(ROOT.parent / "shared" / "corpus"),
    ):
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return None


def cut_stream(body: bytes, limit: int = MAX_SEED) -> bytes:
    """A stream within ``limit`` bytes: its first events and its last two (the end of
    a stream matters as much as its start), cut at blank lines or newlines."""
    if len(body) <= limit:
        return body
    sep = b"\n\n" if b"\n\n" in body else (b"\r\n\r\n" if b"\r\n\r\n" in body else b"\n")
    events = [e + sep for e in body.split(sep) if e]
    tail = [e for e in events[-2:] if len(e) <= limit // 2]
    room = limit - sum(map(len, tail))
    head: list[bytes] = []
    for event in events[: len(events) - len(tail)]:
        if len(event) > room:
            break
        head.append(event)
        room -= len(event)
    return b"".join(head + tail)


def _model_outputs(corpus: Path | None, format: str) -> Iterator[str]:
    if corpus is not None:
        for path in sorted((corpus / "models" / format).glob("*.json")):
            output = json.loads(path.read_text("utf-8")).get("output")
            if isinstance(output, str):
                yield output
    for path in sorted((ROOT / "examples").glob(f"*.{format}")):
        yield path.read_text("utf-8")


def seeds(family: str, per_format: int = 12, corpus: Path | None = None) -> Iterator[bytes]:
    """The seed inputs of one family, in the harness layout."""
    if family == "formats":
        for fmt in family_targets(family):
            rng = random.Random(fmt)
            docs = [*delimiter_samples(fmt, rng), *_model_outputs(corpus, fmt)]
            docs += [rendered_calls(fmt, rng) for _ in range(3)]
            docs += [document(fmt, rng) for _ in range(per_format)]
            for doc in docs:
                data = encode_text(doc)
                if doc and len(data) <= MAX_SEED:
                    yield encode(family, fmt, data)
    elif family == "providers":
        for provider in family_targets(family):
            bodies = list(_PROVIDER_SEEDS.get(provider, []))
            if corpus is not None:
                paths = sorted((corpus / "providers" / provider).glob("*.sse"))
                bodies += [cut_stream(p.read_bytes()) for p in paths]
            for body in bodies:
                yield encode(family, provider, body)
    elif family == "json":
        rng = random.Random("json")
        texts = _JSON_SEEDS + [json_text(rng) for _ in range(per_format)]
        for text in texts:
            yield encode(family, "json", encode_text(text))
    elif family == "framing":
        bodies = list(_FRAMING_SEEDS)
        bodies += [b for streams in _PROVIDER_SEEDS.values() for b in streams]
        if corpus is not None:
            paths = sorted((corpus / "providers").glob("*/*.sse"))
            bodies += [cut_stream(p.read_bytes(), 1024) for p in paths[:8]]
        for body in bodies:
            yield encode(family, "framing", body)
    elif family == "tokens":
        yield from _token_seeds(per_format, corpus)
    elif family == "check":
        yield from _check_seeds(corpus)
    else:
        raise ValueError(f"unknown fuzz family {family!r}")


def _check_seeds(corpus: Path | None) -> Iterator[bytes]:
    """JSON Lines datasets of both record shapes: conversations (valid, broken JSON,
    schema breaks, unknown tools) and outputs of several formats and providers."""
    from toolwire.loop.renderers import renderer

    def call(name: str, arguments: str) -> dict[str, object]:
        fn = {"name": name, "arguments": arguments}
        return {
            "role": "assistant",
            "tool_calls": [{"id": "1", "type": "function", "function": fn}],
        }

    conversations = [
        {"messages": [{"role": "user", "content": "hi"}, call("f", '{"a": 1}')]},
        {"messages": [call("f", '{"a": "x"}'), call("g", "{}")]},
        {"messages": [call("f", '{"a": ')], "tools": []},
        {"messages": [{"role": "assistant", "content": '<tool_call>{"name": "f"}'}]},
        {"messages": "nope"},
    ]
    outputs = [
        {"output": renderer(fmt).render_call("f", {"a": 1})}
        for fmt in ("hermes", "qwen3-coder", "glm-4.5", "mistral", "llama3-json")
    ] + [{"output": "plain"}, {"output": '<tool_call>{"name": "f", "arguments": {"a"'}]
    if corpus is not None:
        for path in sorted((corpus / "providers").glob("*/*.sse"))[:4]:
            outputs.append(
                {"output": cut_stream(path.read_bytes(), 1024).decode("utf-8", "replace")}
            )
    lines = [json.dumps(r).encode() for r in conversations]
    yield encode("check", "check", b"\n".join(lines) + b"\n{oops\n\n")
    for r in conversations:
        yield encode("check", "check", json.dumps(r).encode())
    out_lines = [json.dumps(r).encode() for r in outputs]
    yield encode("check", "check", b"\n".join(out_lines), small_limits=True)
    for line in out_lines:
        yield encode("check", "check", line, small_limits=True)


def _token_seeds(per_format: int, corpus: Path | None) -> Iterator[bytes]:
    from fuzz.tokens import SEPARATOR, encode_ids, token_formats
    from tests.tokenizer_fixtures import bpe_tokenizer
    from toolwire.loop.renderers import renderer

    for fmt in token_formats():
        rng = random.Random(fmt)
        r = renderer(fmt)
        sep = SEPARATOR.decode()
        call = r.render_call("lookup", {"path": "notes ü.txt", "limit": 3})
        invented = call + r.end_of_turn + "INVENTED"
        turns = [
            "Let me look é.\n" + invented + sep + "Done 🙂." + r.end_of_turn,
            call + sep + r.render_answer("ok") + r.end_of_turn,
            *(rendered_calls(fmt, rng) + sep + document(fmt, rng) for _ in range(3)),
            *(document(fmt, rng) for _ in range(max(1, per_format // 3))),
            *list(_model_outputs(corpus, fmt))[:2],
        ]
        for doc in turns:
            data = encode_text(doc)
            if doc and len(data) <= MAX_SEED // 4:
                yield encode("tokens", fmt, data)
        ids = bpe_tokenizer(fmt).encode(turns[0].split(sep)[0]).ids
        yield encode("tokens", fmt, encode_ids(ids), small_limits=True)


def dictionary(family: str) -> list[bytes]:
    """libFuzzer dictionary words: delimiters, JSON tokens, SSE fields, schema keys."""
    words: dict[bytes, None] = {}
    json_words = ['{"', '":', '",', "\\u", "\\ud83d\\ude00", "true", "null", "-0.5e3", "[]", "{}"]
    if family == "formats":
        for fmt in family_targets(family):
            for d in delimiter_samples(fmt, random.Random(fmt), each=2):
                words[encode_text(d)] = None
        for w in [*json_words, '"name"', '"arguments"']:
            words[w.encode()] = None
    elif family == "tokens":
        for fmt in family_targets(family):
            for d in delimiter_samples(fmt, random.Random(fmt), each=1):
                words[encode_text(d)] = None
        for w in [*json_words, '"name"', '"arguments"', "\x1e"]:
            words[w.encode()] = None
    elif family in ("providers", "framing"):
        for w in ["data: ", "event: ", "id: ", "retry: ", ":", "\r\n", "\n\n", "[DONE]"]:
            words[w.encode()] = None
        if family == "providers":
            for streams in _PROVIDER_SEEDS.values():
                for body in streams:
                    for key in re.findall(rb'"[A-Za-z_.]+"', body):
                        words[key] = None
    elif family == "check":
        for w in [*json_words, '"messages"', '"role"', '"assistant"', '"tool_calls"',
                  '"function"', '"arguments"', '"name"', '"output"', '"tools"', "\n",
                  "<tool_call>", "data: ", "[TOOL_CALLS]", "<function="]:  # fmt: skip
            words[w.encode()] = None
    else:
        for w in json_words:
            words[w.encode()] = None
    return list(words)


def _dict_line(word: bytes) -> str:
    body = "".join(chr(b) if 0x20 <= b < 0x7F and b not in b'"\\' else f"\\x{b:02X}" for b in word)
    return f'"{body}"'


def write(out: Path, families: Iterable[str] = FAMILIES, per_format: int = 12) -> dict[str, int]:
    """(Re)write ``out/<family>/`` and ``out/<family>.dict``; the number of seeds each."""
    corpus = corpus_root()
    counts: dict[str, int] = {}
    for family in families:
        directory = out / family
        if directory.exists():
            shutil.rmtree(directory)
        directory.mkdir(parents=True)
        n = 0
        for data in seeds(family, per_format, corpus):
            name = hashlib.sha1(data).hexdigest()
            path = directory / name
            if not path.exists():
                path.write_bytes(data)
                n += 1
        counts[family] = n
        lines = [_dict_line(w) for w in dictionary(family)]
        (out / f"{family}.dict").write_text("\n".join(lines) + "\n", "ascii")
    return counts


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m fuzz.seeds", description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "corpus")
    ap.add_argument("--per-format", type=int, default=12, help="grammar documents per format")
    ap.add_argument("families", nargs="*", metavar="FAMILY", help=", ".join(FAMILIES))
    args = ap.parse_args(argv)
    unknown = set(args.families) - set(FAMILIES)
    if unknown:
        ap.error(f"unknown families {sorted(unknown)}; known: {', '.join(FAMILIES)}")
    counts = write(args.out, args.families or FAMILIES, args.per_format)
    for family, n in counts.items():
        print(f"{args.out / family}: {n} seeds, dictionary {args.out / family}.dict")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
