"""What the server checks of a session on every request: its age, a sign-out, a removed reviewer.

The session is a signed cookie, not a server record: on its own, a copy of it
stays valid after a sign-out and every response extends its life. So each
session carries an id and the time it began (stamped when it is first
written), and a session is refused, and the request treated as a new visitor's,
once it is ``max_age`` seconds old however active it has been, once it was
signed out (its id revoked here), or once its reviewer is no longer in the
reviewers file or has a new password. Revocations live in the review database
(``review.web_state``) until the session would have expired anyway, so a session
signed out on one replica is refused by every other. Nothing else of a session
is kept on the server: its cookie (CSRF token included) is signed with
SESSION_SECRET, which every replica must share.
"""

from __future__ import annotations

import secrets
import time
from typing import Callable, Mapping, MutableMapping

from callcenterai.review.web_state import RevokedSessions
from callcenterai.web.accounts import ReviewerFile


def new_session_id() -> str:
    return secrets.token_urlsafe(16)


class SessionRules:
    def __init__(
        self,
        max_age: int,
        reviewers: ReviewerFile,
        revocations: RevokedSessions,
        clock: Callable[[], float] = time.time,
    ):
        self.max_age, self.reviewers, self.revocations, self.clock = max_age, reviewers, revocations, clock

    def valid(self, session: Mapping) -> bool:
        issued = session.get("issued")
        if not isinstance(issued, (int, float)) or self.clock() - issued >= self.max_age:
            return False  # past its lifetime, or made before sessions had one
        reviewer = session.get("reviewer")
        if reviewer is not None and self.revocations.revoked(str(session.get("sid"))):
            return False  # only a reviewer's session is ever revoked: others cost no database read
        return reviewer is None or self.reviewers.fingerprint(reviewer) == session.get("account")

    def stamp(self, session: MutableMapping) -> None:
        """A session written for the first time gets its id and the time it began."""
        if "sid" not in session:
            session["sid"] = new_session_id()
        if "issued" not in session:
            session["issued"] = int(self.clock())

    def sign_in(self, session: MutableMapping, reviewer: str) -> None:
        """A new session (new id, CSRF token and lifetime) for ``reviewer``: no fixation."""
        session.clear()
        session.update(reviewer=reviewer, account=self.reviewers.fingerprint(reviewer))
        self.stamp(session)

    def revoke(self, session: Mapping) -> None:
        """This session is refused from now on, wherever a copy of its cookie turns up."""
        sid, issued = session.get("sid"), session.get("issued")
        if isinstance(sid, str) and isinstance(issued, (int, float)):
            self.revocations.revoke(sid, until=issued + self.max_age, now=self.clock())
