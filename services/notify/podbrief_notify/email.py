"""Emails: each committed brief also goes to the user's address when an SMTP server is configured, and
sign-up sends a link that confirms the address. Briefs go only to confirmed addresses, so nobody can
have podbrief mail someone else by signing up with their address.

Best effort, by design: the email is sent in a background task after the brief's transaction has
committed, with a timeout, so a slow or unreachable SMTP server never holds up the brief, its API
answer or its webhooks. It is tried once and not retried; the outcome is a log line and the
`podbrief_emails_total{outcome}` metric (the deliveries table is for webhooks only).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Any

import aiosmtplib
from podbrief_runtime.store import Store
from sqlalchemy import select

from podbrief_notify.metrics import CONFIRMATION_EMAILS, EMAILS
from podbrief_notify.render import clock_time, is_link, long_date, render_brief
from podbrief_notify.settings import Settings
from podbrief_notify.tables import users

log = logging.getLogger(__name__)


def subject_of(brief: dict[str, Any]) -> str:
    """The email's subject: which brief it is and how much it holds."""
    count = brief["size"]
    return f"Your podbrief · {long_date(brief['created_at'])} · {count} insight{'' if count == 1 else 's'}"


def text_of(brief: dict[str, Any]) -> str:
    """The brief as plain text, for mail readers that show no HTML."""
    lines = [f"Your brief · {long_date(brief['created_at'])}", ""]
    if brief.get("note"):
        lines += [brief["note"], ""]
    for item in brief["items"]:
        lines += [f"{item['rank']}. {item['text']}", f"   {item['show']['title']} — {item['episode']['title']}"]
        if is_link(item.get("link")):
            lines.append(f"   Listen {clock_time(item['start'])}–{clock_time(item['end'])}: {item['link']}")
        lines.append("")
    lines.append(f"Read it on the web: {brief['html_url']}")
    return "\n".join(lines) + "\n"


def compose(brief: dict[str, Any], to: str, sender: str) -> EmailMessage:
    """A multipart/alternative message: the plain text, then the same HTML as the brief's page."""
    message = EmailMessage()
    message["Subject"] = subject_of(brief)
    message["From"] = sender
    message["To"] = to
    message["Date"] = formatdate(localtime=False)
    domain = parseaddr(sender)[1].rpartition("@")[2] or None
    message["Message-ID"] = make_msgid(idstring=brief["id"], domain=domain)
    message.set_content(text_of(brief))
    message.add_alternative(render_brief(brief), subtype="html")
    return message


def confirmation(link: str, to: str, sender: str) -> EmailMessage:
    """The message that asks the owner of `to` to confirm it by opening `link`."""
    message = EmailMessage()
    message["Subject"] = "Confirm your email address for podbrief"
    message["From"] = sender
    message["To"] = to
    message["Date"] = formatdate(localtime=False)
    message.set_content(
        "Someone (we hope you) signed up for podbrief with this address.\n\n"
        f"Open this link to confirm it and receive your briefs by email:\n{link}\n\n"
        "If it was not you, ignore this message: nothing else will be sent to you.\n"
    )
    return message


class Mailer:
    """Sends brief emails in background tasks of the event loop it is used from."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self._tasks: set[asyncio.Task[bool]] = set()

    def submit(self, user_id: str, brief: dict[str, Any]) -> None:
        """Email a committed brief to its user in the background; call it on the event loop."""
        self._start(self.send(user_id, brief))

    def submit_confirmation(self, to: str, link: str) -> None:
        """Email the confirmation link to a new address in the background; call it on the event loop."""
        self._start(self.send_confirmation(to, link))

    def _start(self, work: Coroutine[Any, Any, bool]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def send(self, user_id: str, brief: dict[str, Any]) -> bool:
        """Email the brief now, if the user's address is confirmed; False (logged, counted) when not sent. Never raises."""
        try:
            to = await asyncio.to_thread(self._address, user_id)
            if to is None:
                log.info(
                    "brief not emailed: the user has no confirmed address", extra={"user_id": user_id, "brief_id": brief["id"]}
                )
                return False
            message = compose(brief, to, self.settings.smtp_from)
            await asyncio.wait_for(self._send(message), timeout=self.settings.smtp_timeout_s)
        except Exception as exc:  # any failure stays here: the brief and its webhooks are unaffected
            EMAILS.labels(outcome="failed").inc()
            log.warning(
                "brief email failed", extra={"user_id": user_id, "brief_id": brief["id"], "error": f"{type(exc).__name__}: {exc}"}
            )
            return False
        EMAILS.labels(outcome="sent").inc()
        log.info("brief email sent", extra={"user_id": user_id, "brief_id": brief["id"]})
        return True

    async def drain(self, timeout: float | None = None) -> None:
        """Wait for emails in flight (at most `timeout` seconds), then cancel what is left."""
        pending = set(self._tasks)
        if not pending:
            return
        _, late = await asyncio.wait(pending, timeout=timeout)
        for task in late:
            task.cancel()
        for task in late:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def send_confirmation(self, to: str, link: str) -> bool:
        """Email a confirmation link now; False (logged, counted) when it could not be sent. Never raises."""
        try:
            message = confirmation(link, to, self.settings.smtp_from)
            await asyncio.wait_for(self._send(message), timeout=self.settings.smtp_timeout_s)
        except Exception as exc:  # the sign-up stands; POST /v1/me/confirmation sends another link
            CONFIRMATION_EMAILS.labels(outcome="failed").inc()
            log.warning("confirmation email failed", extra={"error": f"{type(exc).__name__}: {exc}"})
            return False
        CONFIRMATION_EMAILS.labels(outcome="sent").inc()
        log.info("confirmation email sent")
        return True

    def _address(self, user_id: str) -> str | None:
        """The user's address if it is confirmed (None also when the user was deleted meanwhile)."""
        with self.store.engine.connect() as conn:
            return conn.execute(
                select(users.c.email).where(users.c.id == user_id, users.c.email_confirmed_at.is_not(None))
            ).scalar()

    async def _send(self, message: EmailMessage) -> None:
        s = self.settings
        await aiosmtplib.send(
            message,
            hostname=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_username,
            password=s.smtp_password.get_secret_value() if s.smtp_password else None,
            start_tls=s.smtp_starttls,
            timeout=s.smtp_timeout_s,
        )
