"""The incidents going on now, declared in the last few hours: customers locked out, failing
card payments, a revenue dashboard showing zero, a database upgrade and a launch run as war
rooms, a private lost laptop, a Critical public API outage support declared minutes ago (which
loops in leadership), and some in triage, with updates due within minutes (two overdue).

Customers read about two of them on the status page: the API outage, which support (its
communications lead) published and keeps up to date, and the failing card payments; the
database upgrade's war room announced the next step as maintenance for Saturday night. Support
is also the communications lead of the locked-out customers, not published yet. The scripts
are written by kind: what customers feel (``live_customers``), planned work run as war rooms
(``live_war_rooms``) and what only the company feels (``live_internal``); ``LIVE_NOW`` keeps
them in the order they were declared in before, which breaks ties between simultaneous steps."""

from app.demo.scripts.live_customers import (
    API_OUTAGE,
    CARD_PAYMENTS,
    CHARGED_BUT_FAILED,
    CSV_EXPORT,
    EMAILS_LATE,
    LOCKED_OUT,
    SEARCH_BEHIND,
)
from app.demo.scripts.live_internal import LOST_LAPTOP, PIPELINE_REPORT, REVENUE_DASHBOARD
from app.demo.scripts.live_war_rooms import DATABASE_UPGRADE, LAUNCH

LIVE_NOW = [
    LOCKED_OUT,
    CARD_PAYMENTS,
    CHARGED_BUT_FAILED,
    REVENUE_DASHBOARD,
    DATABASE_UPGRADE,
    LAUNCH,
    EMAILS_LATE,
    API_OUTAGE,
    CSV_EXPORT,
    PIPELINE_REPORT,
    SEARCH_BEHIND,
    LOST_LAPTOP,
]
