"""Where each playground provider lives and its API key, from the environment or the secrets.

``OPENAI_API_KEY`` / ``OPENAI_BASE_URL`` (default https://api.openai.com/v1),
``ANTHROPIC_API_KEY`` / ``ANTHROPIC_BASE_URL`` (default https://api.anthropic.com),
``COMPATIBLE_API_KEY`` / ``COMPATIBLE_BASE_URL`` (any OpenAI-compatible server: Azure OpenAI,
Ollama, vLLM, LM Studio, a LiteLLM proxy; default http://localhost:11434/v1, Ollama's).
The providers and their defaults are those of ``lib.llm.adapters.ADAPTERS``.
"""

from __future__ import annotations

from lib.config import setting
from lib.llm.adapters import ADAPTERS

PROVIDERS = {pid: a.label for pid, a in ADAPTERS.items()}  # id -> name shown
DEFAULT_BASE = {pid: a.default_base for pid, a in ADAPTERS.items()}


def base_url(provider: str) -> str:
    return setting(f"{provider.upper()}_BASE_URL") or DEFAULT_BASE[provider]


def configured_key(provider: str) -> str | None:
    """The key set for the server (never shown); None when the user must type one."""
    return setting(f"{provider.upper()}_API_KEY")
