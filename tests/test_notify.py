"""lib.notify without the network: masking, payloads, signatures, configuration, the weekly
summary's words and numbers."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from lib.notify import words
from lib.notify.config import (
    ChannelConfigError,
    channel_from_config,
    email_channel_from_secrets,
)
from lib.notify.masking import mask_secret, mask_url, scrub, secret_parts
from lib.notify.model import (
    EmailChannel,
    InAppChannel,
    Notification,
    Severity,
    SignedWebhookChannel,
    SlackChannel,
    TeamsChannel,
)
from lib.notify.payloads import (
    email_message,
    generic_payload,
    json_body,
    message_id,
    slack_mrkdwn,
    slack_payload,
    teams_payload,
)
from lib.notify.signing import signature, signed_headers, verify, verify_request
from lib.notify.summary import Mover, OpenAlert, WeeklyFigures, percent, weekly_summary

SLACK_URL = "https://hooks.slack.com/services/T0AAAAAAA/B0BBBBBBB/s3cr3tT0kenXYZabcd1234"

NOTE = Notification(
    title="Budget 80% reached: project Search",
    text="Spend is **$812.40** of a $1,000.00 monthly budget.\n- see [the view](https://tb.example/usage?project=search)",
    event_id="budget:org:search:2026-11:80",
    severity=Severity.WARNING,
    link="https://tb.example/usage?project=search",
    fields=(("Value", "$812.40"), ("Threshold", "$800.00"), ("Subject", "project Search")),
    occurred_at=datetime(2026, 11, 30, 9, 0, tzinfo=UTC),
)


# -- masking -------------------------------------------------------------------------------
def test_mask_url_keeps_scheme_host_and_the_last_four_characters():
    assert mask_url(SLACK_URL) == "https://hooks.slack.com/…1234"
    # a user and password in the URL are dropped; the port stays
    assert mask_url("https://bob:hunter22@example.com:8443/hooks/abcdefghijklmnop") == (
        "https://example.com:8443/…mnop"
    )
    # 11 characters after the host: too short to show any of them
    assert mask_url("https://example.com/abcdefghij") == "https://example.com/…"
    assert mask_url("not a url at all, but secret") == "****cret"
    assert mask_url("") == "" and mask_url(None) == ""


def test_mask_secret_shows_four_characters_of_long_secrets_only():
    assert mask_secret("correct horse battery") == "****tery"
    assert mask_secret("short-pass1") == "****"  # 11 characters: nothing shown
    assert mask_secret("") == "" and mask_secret(None) == ""


def test_channels_repr_and_target_are_masked():
    signed = SignedWebhookChannel(
        url="https://hooks.example.com/in/abcdefgh12345678", secret="whsec_0123456789abcdef"
    )
    mail = EmailChannel(host="smtp.example.com", sender="a@example.com", to=("b@example.com",),
                        user="a@example.com", password="p4ssw0rd-very-secret")  # fmt: skip
    for channel, secret in [(SlackChannel(url=SLACK_URL), "s3cr3tT0kenXYZabcd1234"),
                            (TeamsChannel(url=SLACK_URL), "B0BBBBBBB"),
                            (signed, "whsec_0123456789abcdef"), (signed, "abcdefgh12345678"),
                            (mail, "p4ssw0rd-very-secret")]:  # fmt: skip
        for text in (repr(channel), str(channel), channel.target, f"{channel!r}", str([channel])):
            assert secret not in text
    assert repr(SlackChannel(url=SLACK_URL)) == "SlackChannel(https://hooks.slack.com/…1234)"
    assert mail.target == "smtp://a@example.com@smtp.example.com:587 → b@example.com"
    assert repr(InAppChannel()) == "InAppChannel()"


def test_scrub_removes_every_piece_of_a_url_from_a_text():
    pieces = secret_parts(SLACK_URL)
    text = f"POST {SLACK_URL} failed: no hook s3cr3tT0kenXYZabcd1234 (path /T0AAAAAAA/B0BBBBBBB)"
    out = scrub(text, pieces)
    assert (
        "s3cr3tT0kenXYZabcd1234" not in out and "B0BBBBBBB" not in out and "hooks.slack" not in out
    )
    # the URL as repr() quotes it, control characters escaped
    odd = "https://h.example/x/Secr3tWithCtl\x01zz"
    assert "Secr3tWithCtl" not in scrub(f"bad url {odd!r}", secret_parts(odd))


# -- payloads ------------------------------------------------------------------------------
def test_slack_payload_has_text_fallback_and_blocks():
    doc = slack_payload(NOTE)
    assert doc["text"] == "Warning: Budget 80% reached: project Search"
    kinds = [b["type"] for b in doc["blocks"]]
    assert kinds == ["header", "section", "section", "actions", "context"]
    assert doc["blocks"][0]["text"] == {"type": "plain_text", "text": NOTE.title}
    body = doc["blocks"][1]["text"]["text"]
    assert body == (
        "Spend is *$812.40* of a $1,000.00 monthly budget.\n"
        "• see <https://tb.example/usage?project=search|the view>"
    )
    assert doc["blocks"][2]["fields"][0] == {"type": "mrkdwn", "text": "*Value*\n$812.40"}
    button = doc["blocks"][3]["elements"][0]
    assert button["url"] == NOTE.link and button["text"]["text"] == words.OPEN_LINK
    assert "budget:org:search:2026-11:80" in doc["blocks"][4]["elements"][0]["text"]


def test_slack_text_from_data_cannot_ping_or_inject_links():
    assert slack_mrkdwn("model <!channel> & <https://evil|click>") == (
        "model &lt;!channel&gt; &amp; &lt;https://evil|click&gt;"
    )
    n = Notification(title="t", text="", event_id="e", fields=(("Key", "<!here>"),))
    assert slack_payload(n)["blocks"][1]["fields"][0]["text"] == "*Key*\n&lt;!here&gt;"
    # the header is cut at Slack's 150 characters
    long = Notification(title="x" * 200, text="", event_id="e")
    assert len(slack_payload(long)["blocks"][0]["text"]["text"]) == 150


def test_teams_payload_is_a_message_with_one_adaptive_card():
    doc = teams_payload(NOTE)
    assert doc["type"] == "message"
    (att,) = doc["attachments"]
    assert att["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = att["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    assert card["body"][0]["text"] == NOTE.title and card["body"][0]["color"] == "Warning"
    assert card["body"][1]["text"] == NOTE.text
    assert card["body"][2] == {"type": "FactSet", "facts": [
        {"title": "Value", "value": "$812.40"}, {"title": "Threshold", "value": "$800.00"},
        {"title": "Subject", "value": "project Search"}]}  # fmt: skip
    assert card["actions"] == [
        {"type": "Action.OpenUrl", "title": "Open in Tokenboard", "url": NOTE.link}
    ]
    json.dumps(doc)  # serialisable as it is


def test_generic_payload_and_its_bytes():
    doc = generic_payload(NOTE)
    assert doc == {
        "type": "tokenboard.notification",
        "event_id": "budget:org:search:2026-11:80",
        "title": NOTE.title,
        "text": NOTE.text,
        "severity": "warning",
        "link": NOTE.link,
        "fields": [
            {"name": "Value", "value": "$812.40"},
            {"name": "Threshold", "value": "$800.00"},
            {"name": "Subject", "value": "project Search"},
        ],
        "occurred_at": "2026-11-30T09:00:00+00:00",
    }
    assert json.loads(json_body(doc)) == doc
    assert json_body({"a": "é"}) == '{"a":"é"}'.encode()


def test_email_message_plain_text_one_line_headers_and_a_stable_message_id():
    ch = EmailChannel(host="smtp.example.com", sender="Tokenboard <alerts@example.com>",
                      to=("a@example.com", "b@example.com"))  # fmt: skip
    evil = Notification(title="Spike\r\nBcc: victim@example.com", text="body", event_id="spike:1")
    msg = email_message(ch, evil)
    assert msg["Subject"] == "[Tokenboard] Info: Spike Bcc: victim@example.com"
    assert msg["Bcc"] is None and msg["To"] == "a@example.com, b@example.com"
    assert msg["Message-ID"] == message_id("spike:1", ch.sender)
    assert message_id("spike:1", ch.sender) == message_id("spike:1", ch.sender)
    assert message_id("spike:1", ch.sender).endswith("@example.com>")
    assert msg["X-Tokenboard-Event-Id"] == "spike:1"
    text = email_message(ch, NOTE).get_content()
    assert "Value: $812.40\nThreshold: $800.00\nSubject: project Search" in text
    assert "Open in Tokenboard: https://tb.example/usage?project=search" in text


# -- signatures ----------------------------------------------------------------------------
def test_signature_is_hmac_sha256_of_timestamp_dot_body():
    import hashlib
    import hmac

    body = b'{"a":1}'
    expected = hmac.new(b"topsecret", b'1700000000.{"a":1}', hashlib.sha256).hexdigest()
    assert signature("topsecret", 1700000000, body) == "sha256=" + expected
    headers = signed_headers("topsecret", body, now=1700000000)
    assert headers == {
        "X-Tokenboard-Timestamp": "1700000000",
        "X-Tokenboard-Signature": "sha256=" + expected,
    }
    assert verify_request(
        "topsecret", {k.lower(): v for k, v in headers.items()}, body, now=1700000100
    )


def test_verify_refuses_forged_tampered_old_and_malformed():
    body = b'{"a":1}'
    sig = signature("topsecret", 1700000000, body)
    assert verify("topsecret", body, "1700000000", sig, now=1700000000)
    assert not verify("other", body, "1700000000", sig, now=1700000000)  # wrong secret
    assert not verify("topsecret", b'{"a":2}', "1700000000", sig, now=1700000000)  # tampered
    assert not verify("topsecret", body, "1700000001", sig, now=1700000000)  # other timestamp
    assert not verify("topsecret", body, "1700000000", sig, now=1700000301)  # 301 s later
    assert not verify("topsecret", body, "1700000000", sig, now=1699999699)  # 301 s early
    assert verify("topsecret", body, "1700000000", sig, now=1700000300)  # 300 s: still in
    for ts, s in [
        (None, sig),
        ("", sig),
        ("abc", sig),
        ("1700000000", None),
        ("1700000000", "sha256=00"),
    ]:
        assert not verify("topsecret", body, ts, s, now=1700000000)


# -- configuration -------------------------------------------------------------------------
def test_email_channel_from_the_secrets_smtp_table():
    secrets = {"smtp": {"host": "smtp.example.com", "port": 2525, "user": "u", "password": "pw-123456789",
                        "from": "alerts@example.com", "to": "a@example.com, b@example.com"}}  # fmt: skip
    ch = email_channel_from_secrets(secrets)
    assert ch is not None and ch.host == "smtp.example.com" and ch.port == 2525
    assert ch.to == ("a@example.com", "b@example.com") and ch.security == "starttls"
    assert ch.password == "pw-123456789" and "pw-123456789" not in repr(ch)
    # a user's own address for their weekly summary
    own = email_channel_from_secrets(secrets, to=("me@example.com",))
    assert own is not None and own.to == ("me@example.com",)
    assert (
        email_channel_from_secrets({}) is None and email_channel_from_secrets({"smtp": {}}) is None
    )
    with pytest.raises(ChannelConfigError) as err:
        email_channel_from_secrets(
            {"smtp": {"host": "h", "from": "a@example.com", "to": [], "password": "pw-hidden-999"}}
        )
    assert (
        err.value.code == "missing"
        and err.value.field == "to"
        and "pw-hidden" not in str(err.value)
    )


@pytest.mark.parametrize(
    ("config", "code", "field"),
    [
        ({"kind": "pager"}, "unknown_kind", "kind"),
        ({"kind": "slack"}, "missing", "url"),
        ({"kind": "slack", "url": "ftp://example.com/x"}, "bad_url", "url"),
        ({"kind": "teams", "url": "https:///nohost"}, "bad_url", "url"),
        ({"kind": "webhook", "url": "https://example.com/h"}, "missing", "secret"),
        ({"kind": "email", "host": "h", "from": "nobody", "to": "a@example.com"}, "bad_address", "from"),
        ({"kind": "email", "host": "h", "from": "a@example.com", "to": "a@example.com", "port": "x"}, "bad_port", "port"),
        ({"kind": "email", "host": "h", "from": "a@example.com", "to": "a@example.com", "security": "tls1"}, "bad_security", "security"),
    ],
)  # fmt: skip
def test_channel_from_config_refusals_have_codes(config, code, field):
    with pytest.raises(ChannelConfigError) as err:
        channel_from_config(config)
    assert (err.value.code, err.value.field) == (code, field)


def test_channel_from_config_kinds():
    assert channel_from_config({"kind": "in_app"}) == InAppChannel()
    assert channel_from_config({"kind": "slack", "url": SLACK_URL}) == SlackChannel(url=SLACK_URL)
    assert channel_from_config({"kind": "TEAMS", "url": SLACK_URL}) == TeamsChannel(url=SLACK_URL)
    assert channel_from_config(
        {"kind": "webhook", "url": SLACK_URL, "secret": "s"}
    ) == SignedWebhookChannel(url=SLACK_URL, secret="s")


# -- the weekly summary --------------------------------------------------------------------
def test_every_sentence_is_a_module_level_template():
    constants = {k: v for k, v in vars(words).items() if k.isupper() and k != "TEMPLATES"}
    assert all(isinstance(v, str) for v in constants.values())
    assert set(words.TEMPLATES) == set(constants.values())


def test_percent_rounding_and_signs():
    assert percent(Decimal("12.45")) == "+12.5%"  # half up
    assert percent(Decimal("-3")) == "−3.0%"
    assert percent(Decimal("0.04")) == "0.0%"


def test_weekly_summary_figures_worked_by_hand():
    figures = WeeklyFigures(
        start=date(2026, 11, 23), end=date(2026, 11, 29),
        spend=Decimal("1234.565"), previous=Decimal("1000.00"),
        movers=[
            Mover("gpt-4o", Decimal("600.00"), Decimal("400.00")),       # +200.00, +50.0%
            Mover("claude-sonnet-4-5", Decimal("100.00"), Decimal("150.00")),  # −50.00, −33.3%
            Mover("o3", Decimal("80.00"), Decimal("0")),                 # +80.00, new
            Mover("gpt-4o-mini", Decimal("5.00"), Decimal("5.00")),      # did not move: left out
        ],
        open_alerts=[OpenAlert("Budget 80% reached: project Search"),
                     OpenAlert("Error rate 12% on gpt-4o", Severity.CRITICAL)],
        open_alerts_count=7,
        link="https://tb.example/?from=2026-11-23",
    )  # fmt: skip
    n = weekly_summary(figures)
    assert n.title == "Weekly summary, 2026-11-23 to 2026-11-29"
    assert n.event_id == "weekly-summary:2026-11-23" and n.link == figures.link
    # 1234.565 → $1,234.57 (half up); change (1234.565 − 1000) / 1000 = 23.4565 % → +23.5%
    assert n.text == (
        "Spend this week: **$1,234.57**, +23.5% against $1,000.00 the week before.\n"
        "\n"
        "**Top movers**\n"
        "- gpt-4o: $600.00 (+$200.00, +50.0%)\n"
        "- o3: $80.00 (+$80.00, new this week)\n"
        "- claude-sonnet-4-5: $100.00 (−$50.00, −33.3%)\n"
        "\n"
        "**7 open alerts**\n"
        "- Warning: Budget 80% reached: project Search\n"
        "- Critical: Error rate 12% on gpt-4o\n"
        "- and 5 more"
    )
    assert n.fields == (("Spend this week", "$1,234.57"), ("Spend the week before", "$1,000.00"),
                        ("Change", "+23.5%"), ("Open alerts", "7"))  # fmt: skip


def test_weekly_summary_without_previous_spend_movers_or_alerts():
    n = weekly_summary(WeeklyFigures(start=date(2026, 11, 23), end=date(2026, 11, 29),
                                     spend=Decimal("12"), previous=Decimal("0"), currency="EUR"))  # fmt: skip
    assert n.text == (
        "Spend this week: **12.00 EUR**; nothing was spent the week before.\n\n"
        "No spend moved this week.\n\nNo open alerts."
    )
    assert ("Change", "+0.0%") not in n.fields and ("Open alerts", "0") in n.fields
    quiet = weekly_summary(WeeklyFigures(start=date(2026, 11, 23), end=date(2026, 11, 29),
                                         spend=Decimal("0"), previous=Decimal("0"),
                                         open_alerts=[OpenAlert("Key unused for 30 days", Severity.INFO)]))  # fmt: skip
    assert quiet.text.startswith("Nothing was spent this week or the week before.")
    assert quiet.text.endswith("**1 open alert**\n- Info: Key unused for 30 days")
    # a change the caller computed is used as given
    given = weekly_summary(WeeklyFigures(start=date(2026, 11, 23), end=date(2026, 11, 29),
                                         spend=Decimal("110"), previous=Decimal("100"),
                                         change_pct=Decimal("9.96")))  # fmt: skip
    assert "+10.0% against $100.00" in given.text


def test_a_severity_given_as_text_is_read():
    n = Notification(title="t", text="", event_id="e", severity="critical")  # type: ignore[arg-type]
    assert n.severity is Severity.CRITICAL and slack_payload(n)["text"] == "Critical: t"
    with pytest.raises(ValueError):
        Notification(title="t", text="", event_id="e", severity="fatal")  # type: ignore[arg-type]


PHISH = "[Tokenboard: sign in again](https://phish.example/login)"


def _teams_html(text: str) -> str:
    from markdown_it import MarkdownIt

    return MarkdownIt("gfm-like", {"linkify": True, "html": False}).render(text)


@pytest.mark.parametrize(
    "value",
    [
        PHISH,
        "see https://phish.example/login or www.phish.example or phish.com/x",
        "<mailto:ops@phish.example> and ops@phish.example",
        "[x][r] [r]: https://phish.example",
    ],
)
def test_teams_text_from_data_never_becomes_a_link(value: str):
    # a ticket's subject is the card's title, a data value is a fact: Adaptive Cards render
    # Markdown links in both (TextBlock, Fact.Title, Fact.Value); shown as typed, not linked
    n = Notification(title=f"Ticket #3: {value}", text="", event_id="e",
                     fields=((value, value),))  # fmt: skip
    card = teams_payload(n)["attachments"][0]["content"]
    title, facts = card["body"][0]["text"], card["body"][1]["facts"][0]
    for text in (title, facts["title"], facts["value"]):
        assert "<a" not in _teams_html(text), text
    assert title.replace("\u2060", "") == f"Ticket #3: {value}"
    assert facts["value"].replace("\u2060", "") == value


def test_a_ticket_subject_is_no_link_in_the_teams_card():
    from lib.tickets.notify import Event, TicketNotifier

    event = Event("new", 3, PHISH, "open", "access", "urgent", "vic", None, "vic", 1, False)
    note = TicketNotifier(secrets={}, base_url="https://tb.example").notification(event, "team")
    card = teams_payload(note)["attachments"][0]["content"]
    assert "<a" not in _teams_html(card["body"][0]["text"])
    # the card's own button still opens the ticket
    assert card["actions"][0]["url"] == "https://tb.example/Help?tab=tickets&ticket=3"
