"""Secrets out of text that may be shown: provider error bodies can echo the key they got."""

from __future__ import annotations

import re

MASK = "[masked]"

_PATTERNS = (
    # OpenAI and Anthropic keys: sk-…, sk-proj-…, sk-admin-…, sk-ant-api03-…, sk-ant-admin01-…
    re.compile(r"\bsk-[A-Za-z0-9_\-]{6,}"),
    # an Authorization header or a token after "Bearer"/"Basic"
    re.compile(r"(?i)\b(?:bearer|basic)\s+[A-Za-z0-9._~+/\-]{6,}=*"),
    # key=value / "key": "value" pairs whose name says secret
    re.compile(
        r"(?i)(?:api[_-]?key|x-api-key|access[_-]?token|secret|password|token)"
        r"(?P<sep>\"?\s*[:=]\s*\"?)[^\s\"',;&}]{6,}"
    ),
    # long hex (Azure keys, hashes)
    re.compile(r"\b[0-9a-fA-F]{32,}\b"),
    # long base64/base64url runs mixing upper case, lower case and digits (model names, all
    # lower case, stay readable)
    re.compile(
        r"(?<![A-Za-z0-9+/_\-])(?=[A-Za-z0-9+/_\-]*\d)(?=[A-Za-z0-9+/_\-]*[A-Z])"
        r"(?=[A-Za-z0-9+/_\-]*[a-z])[A-Za-z0-9+/_\-]{32,}={0,2}"
    ),
)


def _sub(match: re.Match[str]) -> str:
    sep = match.groupdict().get("sep")
    if sep is not None:  # keep the name, hide the value
        return match.group(0)[: match.start("sep") - match.start(0)] + sep + MASK
    text = match.group(0)
    if text[:6].lower() in ("bearer", "basic "):
        return text.split()[0] + " " + MASK
    return MASK


def mask_secrets(text: str | None) -> str:
    """``text`` with anything key-shaped replaced by ``[masked]``: provider keys (``sk-…``),
    bearer tokens, ``api_key=…``-style values and long hex or base64 runs."""
    if not text:
        return text or ""
    for pattern in _PATTERNS:
        text = pattern.sub(_sub, text)
    return text
