"""The live incidents customers feel, the two on the status page among them: customers locked
out after a password reset (support their communications lead, nothing published yet), card
payments failing at checkout (published; a report of charges for failed orders is merged into
it), the public API down (published and kept up to date by support), late notification emails,
one customer's CSV export missing rows (in triage) and search hours behind; ``LIVE_NOW`` in
``live.py`` lists them among the others."""

from app.demo.people import STATUS_PAGE
from app.demo.steps import (
    Comms,
    Done,
    Follow,
    Lead,
    Merge,
    Note,
    PostStatus,
    Publish,
    Rename,
    Script,
    SetField,
    SetSeverity,
    Update,
    Work,
    hours,
    minutes,
)
from app.models import ComponentStatus, StatusIncidentState

LOCKED_OUT = Script(
    name="34 customers can't log in after password reset",
    by="sam",
    ago=minutes(52),
    type="Customer issue",
    severity="Minor",
    summary="Since the latest release, customers who reset their password land on a 'link "
    "expired' page and cannot sign in. 34 tickets so far, mostly Enterprise accounts.",
    fields={
        "Affected features": ("Login",),
        "Affected teams": ("Support",),
        "Customers affected": 34,
    },
    steps=[
        Update(
            minutes(1),
            "sam",
            "We've had 34 reports from customers saying they can't log in after resetting "
            "their password. Kicking this off so engineering can take a look.",
            next_in=30,
        ),
        Lead(minutes(6), "jordan", "jordan"),
        Update(
            minutes(14),
            "jordan",
            "Reset links are rejected by the new session service that went out with this "
            "latest release. Everyone who reset since then is affected; people who did not "
            "reset can still sign in.",
            severity="Major",
            next_in=30,
        ),
        Comms(minutes(15), "jordan", "sam"),
        Follow(minutes(16), "erin"),
        Work(minutes(18), "jordan", "Send affected customers a one-time sign-in link", "sam"),
        Note(
            minutes(22),
            "sam",
            "Five more tickets in the last ten minutes, all from accounts that mix single "
            "sign-on and passwords.",
        ),
        SetField(minutes(25), "sam", "Customers affected", 41),
        Work(
            minutes(26),
            "jordan",
            "Roll the session service back to the previous version",
            "noah",
        ),
        Update(
            minutes(40),
            "sam",
            "Support is sending affected customers a one-time sign-in link while engineering "
            "prepares a rollback. Customers who have not reset their password are not "
            "affected.",
            next_in=30,
        ),
        Done(minutes(44), "sam", "Send affected customers a one-time sign-in link"),
    ],
)

CARD_PAYMENTS = Script(
    key="checkout",
    name="Card payments failing at checkout for about 8% of orders",
    by="leo",
    ago=hours(2) + minutes(10),
    type="Default",
    severity="Critical",
    summary="About one card payment in twelve fails with a timeout from our payment processor. "
    "PayPal and bank transfers work.",
    fields={
        "Affected features": ("Checkout",),
        "Affected teams": ("Payments", "Support"),
        "Customers affected": 1200,
    },
    next_update=15,
    steps=[
        Lead(minutes(2), "leo", "leo"),
        Comms(minutes(5), "leo", "chloe"),
        Update(
            minutes(8),
            "leo",
            "Card payments time out at our processor for about 8% of orders. We are on a call "
            "with them.",
            next_in=20,
        ),
        Follow(minutes(10), "erin"),
        Follow(minutes(12), "sam"),
        Update(
            minutes(30),
            "leo",
            "The processor confirms trouble in one of their EU regions. We are routing EU card "
            "payments to our backup processor.",
            status="Fixing",
            next_in=30,
        ),
        Work(minutes(31), "leo", "Route EU card payments to the backup processor", "noah"),
        SetField(minutes(45), "chloe", "Status page", STATUS_PAGE + "checkout-card-payments"),
        Publish(
            minutes(46),
            "chloe",
            "Some card payments are failing",
            "About one in twelve card payments fails at checkout. We know why and are moving "
            "card payments to another provider. Until then, please retry in a few minutes or "
            "pay with PayPal. A failed payment may show as pending on your statement for up "
            "to 3 days, but you are never charged for it.",
            StatusIncidentState.IDENTIFIED,
            (("Payments", ComponentStatus.PARTIAL_OUTAGE),),
        ),
        Update(
            minutes(47),
            "chloe",
            "The status page is up to date. Support: customers whose card payment failed can "
            "retry in a few minutes or pay with PayPal. A failed payment may show as pending "
            "on their statement for up to 3 days; it is never taken.",
            next_in=30,
        ),
        Done(minutes(75), "noah", "Route EU card payments to the backup processor"),
        Work(
            minutes(80),
            "leo",
            "Reconcile pending charges for failed orders with the processor",
            "dana",
        ),
        Update(
            minutes(100),
            "leo",
            "EU card payments now go through the backup processor and failures are back under "
            "0.5%. We keep it that way until the processor confirms they have recovered.",
            next_in=45,
        ),
        PostStatus(
            minutes(102),
            "chloe",
            "Card payments work again for almost everyone. We are watching them closely and "
            "will post here once everything is back to normal. If a payment failed, it is "
            "safe to try again now.",
            StatusIncidentState.MONITORING,
            (("Payments", ComponentStatus.DEGRADED_PERFORMANCE),),
        ),
    ],
)

CHARGED_BUT_FAILED = Script(
    name="Customers say they were charged but their order failed",
    by="sam",
    ago=hours(1) + minutes(58),
    type="Customer issue",
    severity="Minor",
    summary="Six customers wrote in: checkout failed, yet their bank shows a charge.",
    fields={"Affected features": ("Checkout",), "Customers affected": 6},
    triage=True,
    steps=[
        Merge(minutes(10), "jordan", into="checkout"),
    ],
)

EMAILS_LATE = Script(
    name="Notification emails delayed by up to 40 minutes",
    by="jordan",
    ago=minutes(38),
    type="Default",
    severity="Minor",
    summary="Emails for mentions and assignments arrive 20 to 40 minutes late. In-app "
    "notifications are on time.",
    fields={"Affected features": ("Notifications",), "Affected teams": ("Platform",)},
    steps=[
        Lead(minutes(2), "jordan", "noah"),
        Update(
            minutes(4),
            "noah",
            "The email queue holds 18,000 messages after a slow batch from the newsletter job. "
            "Looking at pausing the newsletter to let the rest through.",
            next_in=45,
        ),
        Work(minutes(10), "noah", "Pause the newsletter job until the queue drains", "noah"),
        Follow(minutes(12), "maya"),
    ],
)

API_OUTAGE = Script(
    name="Public API answers every request with an error",
    by="sam",
    ago=minutes(18),
    type="Customer issue",
    severity="Critical",
    summary="Every call to the public API fails with a 500 error. Customers' integrations and "
    "scripts have stopped working, and tickets are pouring in from our largest accounts.",
    fields={
        "Affected features": ("Public API",),
        "Affected teams": ("Support", "Platform"),
        "Customers affected": 860,
    },
    next_update=15,
    steps=[
        Lead(minutes(2), "jordan", "jordan"),
        Comms(minutes(3), "jordan", "sam"),
        Publish(
            minutes(5),
            "sam",
            "API requests are failing",
            "Every request to our API fails with an error, so integrations and scripts that "
            "use it have stopped working. The dashboard and the mobile apps are not affected. "
            "We are investigating and will post an update within 15 minutes.",
            StatusIncidentState.INVESTIGATING,
            (("API", ComponentStatus.MAJOR_OUTAGE),),
        ),
        Update(
            minutes(6),
            "jordan",
            "The API gateway refuses every request since this morning's certificate rotation: "
            "the new certificate lacks its intermediate. Rolling the gateway back to the "
            "previous certificate.",
            status="Fixing",
            next_in=15,
        ),
        Work(
            minutes(7),
            "jordan",
            "Roll the API gateway back to the previous certificate",
            "noah",
        ),
        PostStatus(
            minutes(9),
            "sam",
            "We have found the cause: a security certificate we changed this morning. We are "
            "putting the previous one back, after which the API will work again by itself; "
            "there is nothing to change on your side.",
            StatusIncidentState.IDENTIFIED,
        ),
        Note(
            minutes(10),
            "sam",
            "Over 60 tickets and two partners on the phone. Pointing everyone at the status page.",
        ),
        SetField(minutes(11), "sam", "Status page", STATUS_PAGE + "public-api-errors"),
        Update(
            minutes(13),
            "sam",
            "The status page says the API is down and we are on it. Support is answering "
            "tickets with a link to it.",
            next_in=15,
        ),
        PostStatus(
            minutes(16),
            "sam",
            "We are still putting the previous certificate back. Requests that failed are not "
            "retried for you: please run them again once the API works. Next update within 15 "
            "minutes.",
            StatusIncidentState.IDENTIFIED,
        ),
    ],
)

CSV_EXPORT = Script(
    name="Acme Corp's CSV export is missing last week's rows",
    by="sam",
    ago=minutes(14),
    type="Customer issue",
    severity="Minor",
    summary="Acme Corp exported their activity report as CSV and the rows from last week are "
    "missing. Their account manager needs an answer before a board meeting tomorrow.",
    fields={"Affected features": ("Reporting",), "Customers affected": 1},
    triage=True,
    steps=[
        Update(
            minutes(1),
            "sam",
            "Reported by Acme Corp's admin through the help centre, with screenshots on the "
            "ticket. Only one customer so far.",
            next_in=30,
        ),
        Lead(minutes(6), "jordan", "jordan"),
        Note(
            minutes(8),
            "jordan",
            "Checking whether this is the 50,000-row export limit before accepting it.",
        ),
    ],
)

SEARCH_BEHIND = Script(
    name="Customers can't find new documents in search",
    by="sam",
    ago=hours(4) + minutes(30),
    type="Default",
    severity="Minor",
    summary="New and edited documents take hours to show up in search for some workspaces. "
    "Nothing is lost; search just does not find recent changes.",
    fields={
        "Affected features": ("Search",),
        "Affected teams": ("Platform", "Support"),
        "Customers affected": 120,
    },
    steps=[
        Lead(minutes(10), "alex", "alex"),
        SetSeverity(minutes(11), "alex", "Major"),
        Rename(minutes(12), "alex", "Search results are hours behind for 120 workspaces"),
        Update(
            minutes(14),
            "alex",
            "The search indexer is falling behind on one of its three shards. Adding capacity "
            "to that shard.",
            next_in=60,
        ),
        Work(minutes(15), "alex", "Add two indexer workers to the slow shard", "jordan"),
        Follow(minutes(20), "erin"),
        Done(hours(1), "jordan", "Add two indexer workers to the slow shard"),
        Update(
            hours(1) + minutes(20),
            "alex",
            "The new workers are catching up: the backlog is down from six hours to three.",
            status="Fixing",
            next_in=60,
        ),
        Note(
            hours(2),
            "sam",
            "Customers ask whether documents are lost; telling them no, search will catch up.",
        ),
        Update(hours(2) + minutes(50), "alex", "The backlog is down to 40 minutes.", next_in=60),
    ],
)
