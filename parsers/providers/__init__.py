"""Provider stream parsers: one module per provider's wire schema, one shared base.

Every parser has the text formats' API (``feed(chunk) -> events``, ``close()``) and
emits the same event vocabulary; ``PROVIDERS`` maps format ids to their classes.
"""

from __future__ import annotations

from .anthropic import AnthropicParser
from .base import ProviderParser
from .gemini import GeminiParser
from .ollama import OllamaParser
from .openai_chat import OpenAIChatParser
from .openai_responses import OpenAIResponsesParser

__all__ = [
    "PROVIDERS",
    "AnthropicParser",
    "GeminiParser",
    "OllamaParser",
    "OpenAIChatParser",
    "OpenAIResponsesParser",
    "ProviderParser",
]

PROVIDERS: dict[str, type[ProviderParser]] = {
    cls.name: cls
    for cls in (
        OpenAIChatParser,
        OpenAIResponsesParser,
        AnthropicParser,
        GeminiParser,
        OllamaParser,
    )
}
"""Format id -> parser class."""
