"""The Help page's "Support tickets" tab: file a ticket (its context prefilled from the page the
user came from: ``Help?tab=tickets&from=<relative link of the view>``), follow one's own
tickets and their threads; admins see every ticket, search, filter, export them as CSV, see
the time to first response, and triage one (reply, internal note, status, assignee, merge).

``Help?tab=tickets&ticket=12`` opens ticket #12 for whoever may see it; anyone else is told it
was not found (the same words as for a number that does not exist). Every check is made in
``lib.tickets.service``; this module only draws. Users' Markdown is shown through
``lib.tickets.text.safe_markdown`` (no HTML, no images, web links only) and every other value
a user typed through ``md()``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pandas as pd
import streamlit as st

from lib.auth.actor import current_role
from lib.auth.roles import PermissionDeniedError
from lib.i18n import N_
from lib.ingest.ledger import data_version
from lib.tickets import (
    CATEGORIES,
    SEVERITIES,
    STATUSES,
    Draft,
    Thread,
    Ticket,
    TicketError,
    Upload,
    service,
)
from lib.tickets import context as ticket_context
from lib.tickets import files as ticket_files
from lib.tickets.notify import set_team_channels, team_channels
from lib.tickets.text import safe_markdown
from lib.ui import url
from lib.ui.auth_gate import session_token, user_store
from lib.ui.frame import PageContext, page_url
from lib.ui.i18n import _, integer, lang, moment, n_
from lib.ui.markup import code, md
from lib.ui.nav import PAGES

CATEGORY_LABELS: dict[str, str] = {
    "data": N_("Data"),
    "billing": N_("Billing"),
    "access": N_("Access"),
    "bug": N_("Bug"),
    "question": N_("Question"),
}
SEVERITY_LABELS: dict[str, str] = {
    "low": N_("Low"),
    "normal": N_("Normal"),
    "high": N_("High"),
    "urgent": N_("Urgent"),
}
STATUS_LABELS: dict[str, str] = {
    "open": N_("Open"),
    "in_progress": N_("In progress"),
    "waiting": N_("Waiting for you"),
    "resolved": N_("Resolved"),
    "closed": N_("Closed"),
}
ADMIN_WAITING = N_("Waiting for the reporter")
HISTORY_KIND = {
    "assign": N_("Assigned"),
    "merge": N_("Merged into"),
    "merged_from": N_("Merged here"),
}
FLASH = "tk_flash"
MB = 1024 * 1024


def status_word(status: str, admin: bool = False) -> str:
    """A status in the page's language ("waiting" reads from the reader's side)."""
    if status == "waiting" and admin:
        return _(ADMIN_WAITING)
    return _(STATUS_LABELS.get(status, status))


def page_word(link: str, stored: str | None) -> str:
    """The name of the page a view link opens, in the page's language (the stored name when
    no page of the app has that address any more)."""
    path = link.split("?", 1)[0]
    found = next((p for p in PAGES if page_url(p.path) == path), None)
    return _(found.label) if found else stored or path


def _words(labels: dict[str, str]) -> dict[str, str]:
    """Codes to their words, made in this run (a widget's ``format_func`` must not translate
    later, outside the run's language)."""
    return {code: _(word) for code, word in labels.items()}


def _statuses() -> dict[str, str]:
    return {s: status_word(s, True) for s in STATUSES}


def refusal(err: Exception) -> str:
    """A refusal of ``lib.tickets`` in words (plain text: wrap in ``md()`` to show)."""
    if isinstance(err, PermissionDeniedError):
        return _("Your role does not allow this.")
    if not isinstance(err, TicketError):
        return _("This could not be done.")
    v = err.values
    limit_mb = integer(round(int(str(v.get("limit", 0))) / MB)) if "limit" in v else ""
    words = {
        "not_found": _("This ticket was not found."),
        "subject": _("Subject: write one, of at most {n} characters.", n=integer(v.get("limit"))),
        "body": _("Text: write some, at most {n} characters.", n=integer(v.get("limit"))),
        "category": _("Category: choose one of the list."),
        "severity": _("Severity: choose one of the list."),
        "status": _("Status: choose one of the list."),
        "transition": _(
            "You can close your ticket, or reopen it once resolved or closed; other changes "
            "are made by the admins."
        ),
        "merged": _("This ticket was merged into #{into}: reply there.", into=v.get("into")),
        "merge_self": _("A ticket cannot be merged into itself."),
        "assignee": _("Tickets are assigned to admins only."),
        "attachment_type": _(
            "{file}: this kind of file is not accepted. Its content and its name must both be "
            "one of: {allowed}.",
            file=v.get("filename"),
            allowed=v.get("allowed"),
        ),
        "attachment_size": _("{file} is larger than {mb} MB.", file=v.get("filename"), mb=limit_mb),
        "attachment_empty": _("{file} is empty.", file=v.get("filename")),
        "ticket_size": _("A ticket's attachments may add up to {mb} MB at most.", mb=limit_mb),
    }
    return words.get(err.code, _("This could not be done."))


def duration(seconds: float | None) -> str:
    """Seconds as days, hours and minutes ("—" for none)."""
    if seconds is None:
        return "—"
    s = round(seconds)
    d, rest = divmod(s, 86400)
    h, rest = divmod(rest, 3600)
    m, sec = divmod(rest, 60)
    if d:
        return _("{d} d {h} h", d=d, h=h)
    if h:
        return _("{h} h {m} min", h=h, m=m)
    if m:
        return _("{m} min", m=m)
    return _("{s} s", s=sec)


def _uploads(files: list | None) -> list[Upload]:
    return [Upload(f.name, f.getvalue()) for f in files or []]


def _open(number: int | None) -> None:
    """Open ticket ``number`` (None: back to the lists) on the next run."""
    url.write_param("ticket", None if number is None else str(number))


def _flash(text: str) -> None:
    st.session_state[FLASH] = text


def _show_flash() -> None:
    text = st.session_state.pop(FLASH, None)
    if text:
        st.success(md(text), icon=":material/check_circle:")


def checked_download(ctx: PageContext, make: Callable[[str], bytes]) -> Callable[[], bytes]:
    """A download button's ``data`` callable. Streamlit calls it on the click, outside any
    script run (no sign-in check before it): it checks this tab's session again then and
    makes the file with the role the user has in the database at that moment (``make(role)``).
    An ended, idle or revoked session, a user disabled, deleted or given another role since
    sign-in, or a role no longer allowed: empty bytes (an empty file), nothing read."""
    store, token, users = ctx.store, session_token(), user_store()

    def data() -> bytes:
        role = current_role(store, token, datetime.now(UTC), users)
        if role is None:
            return b""
        try:
            return make(role)
        except (TicketError, PermissionDeniedError):
            return b""

    return data


# -- filing ---------------------------------------------------------------------------------
def _new_ticket(ctx: PageContext) -> None:
    raw_from = st.query_params.get("from")
    where = ticket_context.view_link(raw_from)
    st.subheader(_("File a ticket"))
    if where:
        page, link = where
        st.caption(
            _("Filed from the page {page}: [{link}]({href})", page=md(page_word(link, page)), link=md(link),
              href=ticket_context.href(link))
        )  # fmt: skip
    elif raw_from:
        st.warning(
            _(
                "The link to the view you came from was not kept: it is not a link to a page "
                "of Tokenboard."
            ),
            icon=":material/link_off:",
        )
    st.caption(
        _("App version {app}, data version {data}.", app=md(ticket_context.app_version()),
          data=md(data_version(ctx.store)))
    )  # fmt: skip
    with st.form("tk_new", clear_on_submit=False):
        subject = st.text_input(_("Subject"), max_chars=200, key="tk_subject")
        left, right = st.columns(2)
        category = left.selectbox(
            _("Category"), CATEGORIES, format_func=_words(CATEGORY_LABELS).__getitem__,
            index=CATEGORIES.index("question"), key=f"tk_category_{ctx.lang}",
        )  # fmt: skip
        severity = right.selectbox(
            _("Severity"), SEVERITIES, format_func=_words(SEVERITY_LABELS).__getitem__,
            index=SEVERITIES.index("normal"), key=f"tk_severity_{ctx.lang}",
        )  # fmt: skip
        body = st.text_area(
            _("Description"), height=180, key="tk_body",
            help=_("Markdown: **bold**, lists, `code`, links to web pages. HTML is shown as text."),
        )  # fmt: skip
        uploaded = st.file_uploader(
            _("Attachments"), accept_multiple_files=True, key="tk_files",
            type=sorted(ticket_files.EXTENSIONS), max_upload_size=ticket_files.MAX_FILE_BYTES // MB,
            help=_("Up to {mb} MB a file, {total} MB in all: {allowed}.",
                   mb=ticket_files.MAX_FILE_BYTES // MB,
                   total=ticket_files.MAX_TICKET_BYTES // MB, allowed=ticket_files.ALLOWED),
        )  # fmt: skip
        sent = st.form_submit_button(_("File the ticket"), type="primary")
    if not sent:
        return
    draft = Draft(subject, body, category, severity, where[1] if where else None)
    try:
        ticket = service.submit(ctx.store, ctx.user.username, ctx.user.role, draft,
                                _uploads(uploaded))  # fmt: skip
    except (TicketError, PermissionDeniedError) as err:
        st.error(md(refusal(err)), icon=":material/error:")
        return
    for k in ("tk_subject", "tk_body", "tk_files"):
        st.session_state.pop(k, None)
    url.write_param("from", None)  # filed: the next ticket starts without this context
    _flash(_("Ticket #{n} filed: you will find the replies here.", n=ticket.number))
    _open(ticket.number)
    st.rerun()


# -- lists ----------------------------------------------------------------------------------
def _table(tickets: list[Ticket], admin: bool, key: str) -> None:
    """The tickets as a table, and a picker that opens one."""
    rows = [
        {
            "#": t.number,
            _("Subject"): t.subject,
            _("Status"): status_word(t.status, admin),
            _("Category"): _(CATEGORY_LABELS.get(t.category, t.category)),
            _("Severity"): _(SEVERITY_LABELS.get(t.severity, t.severity)),
            **({_("Reporter"): t.reporter, _("Assignee"): t.assignee or "—"} if admin else {}),
            _("Filed"): moment(t.created_at),
            _("Updated"): moment(t.updated_at),
            _("First response"): duration(t.first_response_s),
            _("Comments"): t.comments,
        }
        for t in tickets
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    numbers = [t.number for t in tickets]
    subjects = {t.number: t.subject for t in tickets}
    row = st.container(horizontal=True, vertical_alignment="bottom")
    pick = row.selectbox(_("Ticket"), numbers, key=f"{key}_pick_{lang()}",
                         format_func={n: f"#{n} · {s}" for n, s in subjects.items()}.__getitem__)  # fmt: skip
    if row.button(_("Open the ticket"), key=f"{key}_open") and pick is not None:
        _open(int(pick))
        st.rerun()


def _mine(ctx: PageContext) -> None:
    st.subheader(_("My tickets"))
    mine = service.my_tickets(ctx.store, ctx.user.username, ctx.user.role)
    if not mine:
        st.info(_("You have filed no ticket yet."), icon=":material/inbox:")
        return
    _table(mine, False, "tk_mine")


def _response_figures(ctx: PageContext) -> None:
    month = service.response_times(ctx.store, ctx.user.role, ctx.now - timedelta(days=30))
    every = service.response_times(ctx.store, ctx.user.role)
    left, right = st.columns(2)
    for box, label, rt in ((left, _("Last 30 days"), month), (right, _("All time"), every)):
        box.metric(
            _("Median time to first response ({period})", period=label),
            duration(rt.median_s),
            help=_("{answered} of {tickets} tickets answered.", answered=integer(rt.answered),
                   tickets=integer(rt.tickets)),
        )  # fmt: skip
        box.caption(
            n_("{answered} of {n} ticket answered.", "{answered} of {n} tickets answered.",
               rt.tickets, answered=integer(rt.answered), n=integer(rt.tickets))
        )  # fmt: skip


def _all(ctx: PageContext) -> None:
    st.subheader(_("Every ticket"))
    _response_figures(ctx)
    first, second = st.columns(2)
    words = first.text_input(_("Search"), key="tk_q",
                             help=_("Words of the subject, the description or a comment."))  # fmt: skip
    reporter = second.text_input(_("Reporter"), key="tk_reporter")
    a, b, c = st.columns(3)
    statuses = a.multiselect(_("Status"), STATUSES, default=["open", "in_progress", "waiting"],
                             format_func=_statuses().__getitem__, key=f"tk_statuses_{ctx.lang}",
                             placeholder=_("All"))  # fmt: skip
    categories = b.multiselect(_("Category"), CATEGORIES, key=f"tk_categories_{ctx.lang}",
                               format_func=_words(CATEGORY_LABELS).__getitem__,
                               placeholder=_("All"))  # fmt: skip
    admins = service.admins(ctx.store, ctx.user.role)
    assignee_opts: list[str | None] = [None, "", *admins]
    assignee_words: dict[str | None, str] = {
        None: _("Anyone"),
        "": _("Nobody"),
        **{a: a for a in admins},
    }
    assignee = c.selectbox(
        _("Assignee"), assignee_opts, key=f"tk_assignee_{ctx.lang}",
        format_func=assignee_words.__getitem__,
    )  # fmt: skip
    q = service.TicketQuery(words, statuses, categories, assignee, reporter.strip() or None)
    found = service.search(ctx.store, ctx.user.role, q)
    st.caption(n_("{n} ticket", "{n} tickets", len(found), n=integer(len(found))))
    st.download_button(
        _("Export as CSV"),
        checked_download(ctx, lambda role: service.export_csv(ctx.store, role, q)),
        "tickets.csv", "text/csv", key="tk_csv", on_click="ignore",
        icon=":material/download:",
    )  # fmt: skip
    if found:
        _table(found, True, "tk_all")
    else:
        st.info(_("No ticket matches these filters. Widen the status or clear the search; users "
                  "file tickets with \"Report a problem\" above each page or on the \"File a "
                  "ticket\" view here."), icon=":material/inbox:")  # fmt: skip
    with st.expander(_("Notifications of new tickets")):
        _team_channels(ctx)


def _team_channels(ctx: PageContext) -> None:
    from lib.worker import channels

    st.caption(
        _(
            "New tickets and the reporters' replies are e-mailed to the assignee, or to every "
            "admin when nobody is assigned, and posted to the alert channels chosen here. "
            "Reporters are e-mailed the replies and status changes of their tickets."
        )
    )
    names = channels.names(ctx.store)
    current = [n for n in team_channels(ctx.store) if n in names]
    picked = st.multiselect(
        _("Alert channels"), names, default=current, key="tk_channels", placeholder=_("No channel")
    )
    if st.button(_("Save the channels"), key="tk_channels_save"):
        try:
            set_team_channels(ctx.store, ctx.user.role, picked)
        except PermissionDeniedError as err:
            st.error(md(refusal(err)))
        else:
            st.success(_("Saved."))


# -- one ticket -----------------------------------------------------------------------------
def _download(ctx: PageContext, attachment_id: int, filename: str, media: str, size: int) -> None:
    def data(role: str) -> bytes:
        return service.attachment_bytes(ctx.store, ctx.user.username, role, attachment_id)[1]

    st.download_button(
        f"{md(filename)} ({integer(max(1, round(size / 1024)))} KB)",
        checked_download(ctx, data), filename, media,
        key=f"tk_att_{attachment_id}", on_click="ignore", icon=":material/attach_file:",
        type="tertiary",
    )  # fmt: skip


def _facts(thread: Thread, admin: bool) -> None:
    t = thread.ticket
    st.markdown(
        " · ".join([
            f"**{status_word(t.status, admin)}**",
            _(CATEGORY_LABELS.get(t.category, t.category)),
            _("severity: {s}", s=_(SEVERITY_LABELS.get(t.severity, t.severity))),
            _("filed by {who} on {at}", who=md(t.reporter), at=moment(t.created_at)),
            _("assigned to {who}", who=md(t.assignee)) if t.assignee else _("not assigned"),
        ])
    )  # fmt: skip
    details = [
        _("First response: {d}", d=duration(t.first_response_s)),
        _("App version {v}", v=md(t.app_version or "—")),
        _("data version {v}", v=md(t.data_version or "—")),
    ]
    if t.view_link:
        details.insert(0, _("From the page {page}: [{link}]({href})", page=md(page_word(t.view_link, t.page)),
                            link=md(t.view_link), href=ticket_context.href(t.view_link)))  # fmt: skip
    st.caption(" · ".join(details))


def _thread(ctx: PageContext, thread: Thread, admin: bool) -> None:
    t = thread.ticket
    files_of: dict[int | None, list] = {}
    for a in thread.attachments:
        files_of.setdefault(a.comment, []).append(a)
    with st.container(border=True):
        st.markdown(safe_markdown(t.body))
        for a in files_of.get(None, []):
            _download(ctx, a.id, a.filename, a.media_type, a.size)
    for c in thread.comments:
        with st.container(border=True):
            head = _("{who} on {at}", who=md(c.author), at=moment(c.at))
            if c.internal:
                head += " · :orange[" + _("internal note") + "]"
            st.caption(head)
            st.markdown(safe_markdown(c.body))
            for a in files_of.get(c.id, []):
                _download(ctx, a.id, a.filename, a.media_type, a.size)


def _reply(ctx: PageContext, t: Ticket, admin: bool) -> None:
    with st.form(f"tk_reply_{t.number}"):  # kept on a refusal, cleared once sent
        body = st.text_area(_("Reply"), key=f"tk_reply_body_{t.number}",
                            help=_("Markdown: **bold**, lists, `code`, links to web pages."))  # fmt: skip
        uploaded = st.file_uploader(_("Attachments"), accept_multiple_files=True,
                                    type=sorted(ticket_files.EXTENSIONS), max_upload_size=ticket_files.MAX_FILE_BYTES // MB,
                                    key=f"tk_reply_files_{t.number}")  # fmt: skip
        internal = (
            st.checkbox(_("Internal note (admins only)"), key=f"tk_internal_{t.number}")
            if admin
            else False
        )
        sent = st.form_submit_button(_("Send"), type="primary")
    if not sent:
        return
    try:
        service.comment(ctx.store, ctx.user.username, ctx.user.role, t.number, body,
                        _uploads(uploaded), internal=internal)  # fmt: skip
    except (TicketError, PermissionDeniedError) as err:
        st.error(md(refusal(err)), icon=":material/error:")
        return
    for k in (f"tk_reply_body_{t.number}", f"tk_reply_files_{t.number}", f"tk_internal_{t.number}"):
        st.session_state.pop(k, None)
    _flash(_("Reply sent."))
    st.rerun()


def _act(fn: Callable[..., object], *args: object, done: str) -> None:
    try:
        fn(*args)
    except (TicketError, PermissionDeniedError) as err:
        st.error(md(refusal(err)), icon=":material/error:")
        return
    _flash(done)
    st.rerun()


def _reporter_actions(ctx: PageContext, t: Ticket) -> None:
    who = (ctx.store, ctx.user.username, ctx.user.role, t.number)
    row = st.container(horizontal=True)
    if t.status != "closed" and row.button(_("Close the ticket"), key="tk_close"):
        _act(service.set_status, *who, "closed", done=_("Ticket closed."))
    if t.status in ("resolved", "closed") and row.button(_("Reopen"), key="tk_reopen"):
        _act(service.set_status, *who, "open", done=_("Ticket reopened."))


def _admin_actions(ctx: PageContext, t: Ticket) -> None:
    who = (ctx.store, ctx.user.username, ctx.user.role, t.number)
    a, b, c = st.columns(3)
    status = a.selectbox(_("Status"), STATUSES, index=STATUSES.index(t.status),
                         format_func=_statuses().__getitem__, key=f"tk_status_{t.number}_{ctx.lang}")  # fmt: skip
    if a.button(_("Change the status"), key=f"tk_status_go_{t.number}"):
        _act(service.set_status, *who, status, done=_("Status changed."))
    admins: list[str | None] = [None, *service.admins(ctx.store, ctx.user.role)]
    admin_words: dict[str | None, str] = {None: _("Nobody"), **{a: a for a in admins if a}}
    assignee = b.selectbox(
        _("Assignee"), admins, index=admins.index(t.assignee) if t.assignee in admins else 0,
        format_func=admin_words.__getitem__, key=f"tk_assign_{t.number}_{ctx.lang}",
    )  # fmt: skip
    if b.button(_("Assign"), key=f"tk_assign_go_{t.number}"):
        _act(service.assign, *who, assignee, done=_("Assignee changed."))
    into = c.number_input(_("Duplicate of ticket #"), min_value=1, step=1, value=None,
                          key=f"tk_merge_{t.number}")  # fmt: skip
    if c.button(_("Merge into it"), key=f"tk_merge_go_{t.number}") and into is not None:
        _act(service.merge, *who, int(into),
             done=_("Merged into #{n} and closed.", n=int(into)))  # fmt: skip


def _one(ctx: PageContext, raw: str) -> None:
    if st.button(_("All tickets"), icon=":material/arrow_back:", key="tk_back"):
        _open(None)
        st.rerun()
    admin = ctx.can("manage_tickets")
    try:
        thread = service.get(ctx.store, ctx.user.username, ctx.user.role, raw)
    except (TicketError, PermissionDeniedError):
        st.warning(
            _("Ticket {n} was not found.", n=code("#" + raw[:20])), icon=":material/search_off:"
        )
        return
    t = thread.ticket
    _show_flash()
    st.subheader(f"#{t.number} · {md(t.subject)}")
    _facts(thread, admin)
    if t.merged_into is not None:
        st.info(_("Merged into ticket #{n}: it is followed there.", n=t.merged_into),
                icon=":material/merge:")  # fmt: skip
        if st.button(_("Open #{n}", n=t.merged_into), key="tk_open_target"):
            _open(t.merged_into)
            st.rerun()
    if thread.merged_from:
        st.caption(_("Duplicates merged here: {list}",
                     list=", ".join(f"#{n}" for n in thread.merged_from)))  # fmt: skip
    _thread(ctx, thread, admin)
    if t.merged_into is None:
        _reply(ctx, t, admin)
        if admin:
            _admin_actions(ctx, t)
        else:
            _reporter_actions(ctx, t)
    with st.expander(_("History")):
        for h in thread.history:
            if h.kind == "status":
                what = (status_word(h.new or "", admin) if h.old is None else
                        f"{status_word(h.old, admin)} → {status_word(h.new or '', admin)}")  # fmt: skip
            else:
                what = f"{_(HISTORY_KIND.get(h.kind, h.kind))}: {h.new or '—'}"
            st.caption(f"{moment(h.at)} · {md(h.actor)} · {md(what)}")


# -- the tab --------------------------------------------------------------------------------
def draw(ctx: PageContext) -> None:
    """Draw the tab for the signed-in user of ``ctx``."""
    raw = st.query_params.get("ticket")
    if raw:
        _one(ctx, raw)
        return
    _show_flash()
    admin = ctx.can("manage_tickets")
    views = {"new": _("File a ticket"), "mine": _("My tickets")}
    if admin:
        views = {"all": _("Every ticket"), **views}
    default = "new" if st.query_params.get("from") else next(iter(views))
    view = url.choice(st, _("Show"), list(views), key="tk_view", param="view", default=default,
                      format_func=views.__getitem__, widget="segmented_control",
                      label_visibility="collapsed")  # fmt: skip
    {"new": _new_ticket, "mine": _mine, "all": _all}[view or default](ctx)
