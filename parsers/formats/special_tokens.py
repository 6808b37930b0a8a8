# ruff: noqa: RUF001, RUF003  (fullwidth bars are part of DeepSeek's tokens)
"""Which markers of each text format are single special tokens of its model family.

A marker that is a special token is written by the model as one control id, never
as ordinary text (a chat template's encoder disallows special tokens in message
text).  The token-level loop's demo tokenizer and the tests' in-memory tokenizers
make exactly these markers special; the facts come from FORMATS.md's token tables and
its summary (section 11).
"""

from __future__ import annotations

__all__ = ["SPECIAL_TOKENS", "special_tokens"]

_IM = ("<|im_start|>", "<|im_end|>", "<|endoftext|>")
_QWEN = (
    *_IM,
    "<tool_call>",
    "</tool_call>",
    "<think>",
    "</think>",
    "<tool_response>",
    "</tool_response>",
)
_THINK = ("<think>", "</think>")
_DEEPSEEK_TURN = ("<｜end▁of▁sentence｜>", "<｜Assistant｜>", "<｜User｜>")
_DEEPSEEK_CALLS = (
    "<｜tool▁calls▁begin｜>",
    "<｜tool▁call▁begin｜>",
    "<｜tool▁sep｜>",
    "<｜tool▁call▁end｜>",
    "<｜tool▁calls▁end｜>",
    "<｜tool▁output▁begin｜>",
    "<｜tool▁output▁end｜>",
)
_DEEPSEEK_V3 = (
    *_DEEPSEEK_CALLS,
    "<｜tool▁outputs▁begin｜>",
    "<｜tool▁outputs▁end｜>",
    *_DEEPSEEK_TURN,
)
_GLM = (
    *_THINK,
    "<tool_call>",
    "</tool_call>",
    "<arg_key>",
    "</arg_key>",
    "<arg_value>",
    "</arg_value>",
    "<tool_response>",
    "</tool_response>",
    "<|assistant|>",
    "<|user|>",
    "<|observation|>",
    "<|system|>",
    "<|endoftext|>",
)

SPECIAL_TOKENS: dict[str, tuple[str, ...]] = {
    # FORMATS.md 1: every tag is text.
    "tags": (),
    # 2: the Qwen vocabulary (call and think tokens are added tokens; special here).
    "hermes": _QWEN,
    # 3: as hermes; <function=...>, <parameter=...> are text.
    "qwen3-coder": _QWEN,
    # 4: the o200k_harmony header and stop tokens.
    "harmony": (
        "<|start|>",
        "<|end|>",
        "<|message|>",
        "<|channel|>",
        "<|constrain|>",
        "<|call|>",
        "<|return|>",
        "<|endoftext|>",
    ),
    # 5.1, 5.2: the section/call/sep tokens, V3's outputs wrapper; think in R1 only.
    "deepseek-v3": _DEEPSEEK_V3,
    "deepseek-r1": (*_DEEPSEEK_V3, *_THINK),
    # 5.3: no outputs wrapper.
    "deepseek-v3.1": (*_DEEPSEEK_CALLS, *_DEEPSEEK_TURN, *_THINK),
    # 5.4, 5.5: DSML tags are text (whether "｜DSML｜" is one token is unverified).
    "deepseek-v3.2": (*_DEEPSEEK_TURN, *_THINK),
    "deepseek-v4": (*_DEEPSEEK_TURN, *_THINK),
    # 6.1: Kimi K2's tiktoken vocabulary.
    "kimi-k2": (
        "<|tool_calls_section_begin|>",
        "<|tool_calls_section_end|>",
        "<|tool_call_begin|>",
        "<|tool_call_argument_begin|>",
        "<|tool_call_end|>",
        *_THINK,
        "<|im_user|>",
        "<|im_assistant|>",
        "<|im_system|>",
        "<|im_middle|>",
        "<|im_end|>",
    ),
    # 6.2: XTML control tokens; element names and attributes are text.
    "kimi-k3": ("<|open|>", "<|close|>", "<|sep|>", "<|end_of_msg|>"),
    # 7: the same tokens in 4.5 and 4.7.
    "glm-4.5": _GLM,
    "glm-4.7": _GLM,
    # 8.1, 8.2.
    "llama3-json": (
        "<|python_tag|>",
        "<|start_header_id|>",
        "<|end_header_id|>",
        "<|eot_id|>",
        "<|eom_id|>",
        "<|end_of_text|>",
    ),
    "llama4-pythonic": (
        "<|python_start|>",
        "<|python_end|>",
        "<|header_start|>",
        "<|header_end|>",
        "<|eot|>",
        "<|eom|>",
        "<|end_of_text|>",
    ),
    # 9: mistral_common control tokens.
    "mistral": (
        "[TOOL_CALLS]",
        "[ARGS]",
        "[CALL_ID]",
        "[THINK]",
        "[/THINK]",
        "[INST]",
        "[/INST]",
        "[AVAILABLE_TOOLS]",
        "[TOOL_RESULTS]",
        "[/TOOL_RESULTS]",
        "</s>",
    ),
    # 10: all special, asymmetric pairs.
    "gemma4": (
        "<|turn>",
        "<turn|>",
        "<|tool_call>",
        "<tool_call|>",
        "<|tool_response>",
        "<tool_response|>",
        "<|tool>",
        "<tool|>",
        "<|channel>",
        "<channel|>",
        "<|think|>",
        '<|"|>',
        "<eos>",
    ),
}
"""The single-token markers of each format with a renderer (FORMATS.md's token tables
and section 11)."""


def special_tokens(format: str) -> tuple[str, ...]:
    """The special-token markers of ``format`` (empty where every marker is text)."""
    return SPECIAL_TOKENS.get(format, ())
