"""Tool calls and tool results written in each text format's own syntax: which
format has which renderer.

What a renderer supplies and why is in ``renderer_base``; the renderers themselves
are in one module per family of formats (``renderers_tags``: ``<tool_call>``
elements; ``renderers_deepseek``; ``renderers_headers``: results as messages of their
own; ``renderers_notations``: arguments in a notation of the format's own).  The
syntaxes follow the chat templates summarised in FORMATS.md.  Provider streams have
no renderer: their results go back through the provider's API as messages, not as
text.
"""

from __future__ import annotations

from .renderer_base import Renderer, ToolResult
from .renderers_deepseek import (
    DeepSeekR1Renderer,
    DeepSeekV3Renderer,
    DeepSeekV4Renderer,
    DeepSeekV31Renderer,
    DeepSeekV32Renderer,
)
from .renderers_headers import (
    HarmonyRenderer,
    KimiK2Renderer,
    Llama3JsonRenderer,
    Llama4PythonicRenderer,
    MistralRenderer,
)
from .renderers_notations import Gemma4Renderer, KimiK3Renderer
from .renderers_tags import (
    Glm45Renderer,
    Glm47Renderer,
    HermesRenderer,
    Qwen3CoderRenderer,
    TagsRenderer,
)

__all__ = ["Renderer", "ToolResult", "renderer", "renderer_formats"]

_RENDERERS: dict[str, type[Renderer]] = {
    cls.format: cls
    for cls in (
        TagsRenderer,
        HermesRenderer,
        Qwen3CoderRenderer,
        HarmonyRenderer,
        DeepSeekV3Renderer,
        DeepSeekR1Renderer,
        DeepSeekV31Renderer,
        MistralRenderer,
        Llama3JsonRenderer,
        Llama4PythonicRenderer,
        DeepSeekV32Renderer,
        DeepSeekV4Renderer,
        KimiK3Renderer,
        KimiK2Renderer,
        Glm45Renderer,
        Glm47Renderer,
        Gemma4Renderer,
    )
}


def renderer_formats() -> list[str]:
    """The registered format ids that have a renderer (the tool loop's formats)."""
    from ..registry import format_names

    known = set(format_names())
    return sorted(name for name in _RENDERERS if name in known)


def renderer(format: str) -> Renderer:
    """The renderer of a text format; ValueError for provider formats and unknown ids."""
    try:
        return _RENDERERS[format]()
    except KeyError:
        raise ValueError(
            f"no tool-result renderer for format {format!r} (provider streams send "
            f"results through their API); formats with one: {', '.join(renderer_formats())}"
        ) from None
