"""Akagi's interface to generative AI models: one streaming provider interface, a model catalogue.

Typical use by the chat pipeline::

    from llm import get_model, get_provider, StreamDelta, StreamDone, ProviderError

    model = get_model(name)                      # UnknownModel (a ProviderError) if not in the catalogue
    provider = get_provider(model)
    async for event in provider.stream_chat(model=model, messages=history, passages=passages):
        if isinstance(event, StreamDelta): ...   # append event.text
        else: ...                                # StreamDone: usage and finish_reason

Every failure is a ProviderError whose ``user_message`` can be shown to staff. This package imports no other
Akagi app; configuration is described in ``llm.config``.
"""

from llm.base import (
    ChatProvider,
    ModelSpec,
    Passage,
    ProviderError,
    StreamDelta,
    StreamDone,
    UnknownModel,
    count_chars,
    estimate_tokens,
)
from llm.catalogue import available_models, close_clients, default_model_name, get_model, get_provider

__all__ = [
    "ChatProvider",
    "ModelSpec",
    "Passage",
    "ProviderError",
    "StreamDelta",
    "StreamDone",
    "UnknownModel",
    "available_models",
    "close_clients",
    "count_chars",
    "default_model_name",
    "estimate_tokens",
    "get_model",
    "get_provider",
]
