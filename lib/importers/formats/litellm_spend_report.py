"""LiteLLM's spend reports (``GET /global/spend/report``): recognised and refused by name.

The report comes in two shapes (LiteLLM's ``spend_management_endpoints.py``, and the docs'
"Generate Spend Reports" examples, docs.litellm.ai/docs/proxy/cost_tracking):

* ``group_by=team`` or ``group_by=customer``: one entry per day, ``{"group_by_day", "teams"
  | "customers": [{"team_name" | "customer", "total_spend", "metadata": [{"model",
  "api_key", "spend", "total_tokens"}]}]}``. Per day, owner, model and key it gives the spend
  and the *sum* of input and output tokens only, so no input or output count can be stored
  and the spend could not be checked against a price.
* ``api_key=…``, ``internal_user_id=…`` or ``group_by=api_key``: ``[{"api_key",
  "total_cost", "total_input_tokens", "total_output_tokens", "model_details": […]}]``,
  totals over the request's ``start_date``..``end_date``, which the response does not repeat:
  the file says no day.

Both lack what an import needs, so both stop with a message that says what is missing and
which LiteLLM export holds it (the spend logs, or the daily spend tables).
"""

from __future__ import annotations

from typing import Any, NoReturn

from lib.errors import InputError
from lib.i18n import N_
from lib.importers.base import Importer

FORMAT = "litellm_spend_report"
_OWNERS = ("teams", "customers")


def _is_day(doc: Any) -> bool:
    return (
        isinstance(doc, dict)
        and "group_by_day" in doc
        and any(isinstance(doc.get(k), list) for k in _OWNERS)
    )


def _is_key_total(doc: Any) -> bool:
    return (
        isinstance(doc, dict)
        and "api_key" in doc
        and isinstance(doc.get("model_details"), list)
        and ("total_cost" in doc or "total_input_tokens" in doc)
    )


def recognise(docs: list[Any]) -> bool:
    """True when every document is an entry of a ``/global/spend/report`` response."""
    return bool(docs) and (all(_is_day(d) for d in docs) or all(_is_key_total(d) for d in docs))


_INSTEAD = N_(
    "LiteLLM's spend logs instead (GET /spend/logs, or the LiteLLM_SpendLogs table as CSV) "
    "or a daily spend table (LiteLLM_DailyTeamSpend, LiteLLM_DailyUserSpend… as CSV), which "
    "give input and output tokens per day"
)


def plan(display: str, docs: list[Any]) -> NoReturn:
    """Refuse the report, saying what it lacks (see the module docstring)."""
    if all(_is_day(d) for d in docs):
        owner = next(k for k in _OWNERS if isinstance(docs[0].get(k), list))
        raise InputError(
            display,
            N_(
                "this is LiteLLM's spend report by {owner} (GET /global/spend/report): per day, "
                "model and key it gives only total_tokens, the sum of input and output tokens, "
                "so neither count can be stored; nothing imported",
                owner=owner.removesuffix("s"),
            ),
            field=f"[0].{owner}[0].metadata[0].total_tokens",
            found="total_tokens without prompt_tokens and completion_tokens",
            expected=_INSTEAD,
        )
    raise InputError(
        display,
        N_(
            "this is LiteLLM's spend report by API key (GET /global/spend/report with api_key, "
            "internal_user_id or group_by=api_key): its totals cover the start_date..end_date of "
            "the request, which the response does not repeat, so the file says no day; "
            "nothing imported"
        ),
        field="[0]",
        found="api_key, total_cost, total_input_tokens, total_output_tokens and no date",
        expected=_INSTEAD,
    )


# Refused whatever --format says (its plan says why); never offered as a --format.
IMPORTERS = (
    Importer(
        (FORMAT,), "docs", 40, recognise, lambda d, _c, a: plan(a.display, d),
        decisive=True, listed=False,
    ),
)  # fmt: skip
