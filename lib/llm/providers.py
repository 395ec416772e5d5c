"""Where each playground provider lives and its API key, from the environment or the secrets.

``OPENAI_API_KEY`` / ``OPENAI_BASE_URL`` (default https://api.openai.com/v1),
``ANTHROPIC_API_KEY`` / ``ANTHROPIC_BASE_URL`` (default https://api.anthropic.com),
``COMPATIBLE_API_KEY`` / ``COMPATIBLE_BASE_URL`` (any OpenAI-compatible server: Azure OpenAI,
Ollama, vLLM, LM Studio, a LiteLLM proxy; default http://localhost:11434/v1, Ollama's).
"""

from __future__ import annotations

from lib.config import setting

PROVIDERS = {"openai": "OpenAI", "anthropic": "Anthropic", "compatible": "OpenAI-compatible"}
DEFAULT_BASE = {"openai": "https://api.openai.com/v1", "anthropic": "https://api.anthropic.com",
                "compatible": "http://localhost:11434/v1"}  # fmt: skip


def base_url(provider: str) -> str:
    return setting(f"{provider.upper()}_BASE_URL") or DEFAULT_BASE[provider]


def configured_key(provider: str) -> str | None:
    """The key set for the server (never shown); None when the user must type one."""
    return setting(f"{provider.upper()}_API_KEY")
