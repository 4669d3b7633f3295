"""The incidents going on now, declared in the last few hours: customers locked out, failing
card payments, a revenue dashboard showing zero, a database upgrade and a launch run as war
rooms, a private lost laptop, a Critical public API outage support declared minutes ago (which
loops in leadership), and some in triage, with updates due within minutes (two overdue).

Customers read about two of them on the status page: the API outage, which support (its
communications lead) published and keeps up to date, and the failing card payments; the
database upgrade's war room announced the next step as maintenance for Saturday night. Support
is also the communications lead of the locked-out customers, not published yet."""

from datetime import time

from app.demo.people import STATUS_PAGE
from app.demo.steps import (
    Comms,
    Done,
    Follow,
    FollowUp,
    Invite,
    Lead,
    Maintain,
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

SATURDAY = 5

LIVE_NOW = [
    Script(
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
    ),
    Script(
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
    ),
    Script(
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
    ),
    Script(
        name="Revenue dashboard shows zero for EU since the 02:00 load",
        by="dana",
        ago=hours(6) + minutes(20),
        type="Data & dashboards",
        severity="Major",
        summary="The revenue dashboard shows zero for every EU country since the nightly 02:00 "
        "load. US and APAC look right. Please don't share EU revenue figures until this is fixed.",
        next_update=60,
        steps=[
            Lead(minutes(3), "dana", "dana"),
            Follow(minutes(10), "erin"),
            Work(
                minutes(25),
                "dana",
                "Tell Finance and Sales leadership not to use EU numbers today",
                "dana",
            ),
            Done(
                minutes(30), "dana", "Tell Finance and Sales leadership not to use EU numbers today"
            ),
            Update(
                minutes(40),
                "dana",
                "The currency rates file arrived empty before the 02:00 load, so every EU amount "
                "was converted to zero. Orders themselves are fine; only the dashboard numbers are "
                "wrong.",
                status="Fixing",
                next_in=60,
            ),
            Work(minutes(45), "dana", "Re-run the EU load once the rates file is fixed", "noah"),
            Update(
                minutes(100),
                "dana",
                "The provider has sent the rates file again. Noah is re-running the EU load; "
                "numbers should be back in about two hours.",
                next_in=120,
            ),
            Done(hours(4), "noah", "Re-run the EU load once the rates file is fixed"),
            Update(
                hours(4) + minutes(10),
                "dana",
                "EU revenue is back and matches the order system within 0.1%. Watching the next "
                "hourly loads before we close this.",
                status="Monitoring",
                next_in=120,
            ),
            FollowUp(
                hours(5), "dana", "Alert when the currency rates file is empty", "noah", due_in=7
            ),
            Update(
                hours(5) + minutes(50),
                "dana",
                "The first hourly load after the fix is correct. One more to go.",
                next_in=60,
            ),
        ],
    ),
    Script(
        name="Orders database upgrade to PostgreSQL 16 (war room)",
        by="noah",
        ago=hours(3),
        type="Migration",
        severity="Minor",
        summary="Planned upgrade of the orders database, run as an incident so everyone can follow "
        "along. Checkout stays up; order history may be read-only for up to 15 minutes around the "
        "switch.",
        next_update=30,
        steps=[
            Lead(minutes(1), "noah", "noah"),
            Comms(minutes(2), "noah", "maya"),
            Work(minutes(3), "noah", "Take a final snapshot of the old primary", "noah"),
            Work(minutes(4), "noah", "Switch writes to the new primary", "noah"),
            Work(minutes(5), "noah", "Run the order consistency checks", "jordan"),
            Work(minutes(6), "noah", "Tell support about the read-only window", "maya"),
            Done(minutes(15), "noah", "Take a final snapshot of the old primary"),
            Done(minutes(20), "maya", "Tell support about the read-only window"),
            Update(
                minutes(30),
                "noah",
                "Snapshot taken and the new primary has caught up. Starting the switch.",
                status="Fixing",
                next_in=30,
            ),
            Done(minutes(58), "noah", "Switch writes to the new primary"),
            Update(
                minutes(60),
                "noah",
                "Writes now go to PostgreSQL 16. Order history was read-only for 6 minutes. "
                "Running the consistency checks.",
                status="Monitoring",
                next_in=60,
            ),
            Update(
                hours(2) + minutes(30),
                "maya",
                "Consistency checks are 80% through with no differences. Nothing for customers to "
                "notice.",
                next_in=45,
            ),
            Maintain(
                hours(2) + minutes(35),
                "maya",
                "Database upgrade",
                "We are upgrading the database behind order history and invoices. The dashboard, "
                "the mobile apps and checkout keep working, but order history and invoices may "
                "be read-only for up to 15 minutes during this window.",
                ("Dashboard", "Mobile app", "Checkout API"),
                weekday=SATURDAY,
                starts=time(2),
                lasts=hours(2),
            ),
            Note(
                hours(2) + minutes(36),
                "maya",
                "The invoices database follows on Saturday, 02:00 to 04:00 UTC: announced on the "
                "status page as maintenance, so support can point customers at it.",
            ),
        ],
    ),
    Script(
        name="Launch war room: team workspaces go live",
        by="maya",
        ago=hours(2) + minutes(40),
        type="Product launch",
        severity="Major",
        summary="Team workspaces launch today for every paid plan. This is the war room: who "
        "presses go, who watches the errors, and what support tells customers.",
        steps=[
            Lead(minutes(1), "maya", "maya"),
            Comms(minutes(2), "maya", "chloe"),
            Work(minutes(3), "maya", "Turn the feature on for 10% of accounts", "noah"),
            Work(minutes(4), "maya", "Brief support on the known limitations", "sam"),
            Work(minutes(5), "maya", "Publish the blog post and the changelog", "maya"),
            Follow(minutes(6), "erin"),
            Done(minutes(15), "noah", "Turn the feature on for 10% of accounts"),
            Update(
                minutes(20),
                "maya",
                "10% of accounts have team workspaces and error rates are flat. Going to half of "
                "accounts in 30 minutes if that holds.",
                next_in=30,
            ),
            Done(minutes(30), "sam", "Brief support on the known limitations"),
            Work(minutes(50), "maya", "Turn the feature on for everyone", "noah"),
            Update(
                minutes(55),
                "maya",
                "Half of accounts are on team workspaces. Three support questions, all about "
                "inviting guests, a known limitation. Going to everyone next.",
                next_in=30,
            ),
            Done(hours(1) + minutes(10), "noah", "Turn the feature on for everyone"),
            Update(
                hours(1) + minutes(15),
                "maya",
                "Team workspaces are live for everyone. We are watching errors and the support "
                "queue for the next hour.",
                status="Monitoring",
                next_in=30,
            ),
            Note(
                hours(1) + minutes(20),
                "sam",
                "Two customers asked how to move existing projects into a workspace; sent them the "
                "help article.",
            ),
            Done(hours(1) + minutes(40), "maya", "Publish the blog post and the changelog"),
        ],
    ),
    Script(
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
    ),
    Script(
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
                "Over 60 tickets and two partners on the phone. Pointing everyone at the status "
                "page.",
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
    ),
    Script(
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
    ),
    Script(
        name="Sales pipeline report double-counts renewals",
        by="dana",
        ago=minutes(26),
        type="Data & dashboards",
        severity="Minor",
        summary="Since this week's CRM sync change, renewals appear twice in the pipeline report, "
        "so next quarter's pipeline looks 18% bigger than it is.",
        triage=True,
        steps=[
            Update(
                minutes(2),
                "dana",
                "Sales leaders know not to use the pipeline report for forecasts until this is "
                "sorted.",
                next_in=60,
            ),
            Lead(minutes(3), "dana", "dana"),
        ],
    ),
    Script(
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
            Update(
                hours(2) + minutes(50), "alex", "The backlog is down to 40 minutes.", next_in=60
            ),
        ],
    ),
    Script(
        name="Laptop with production access lost at airport",
        by="priya",
        ago=hours(3) + minutes(25),
        type="Security",
        severity="Major",
        summary="An engineer's laptop was lost at the airport on the way back from a conference. "
        "It holds SSH keys and a VPN profile for production. The disk is encrypted; we don't know "
        "whether it was locked.",
        steps=[
            Lead(minutes(2), "priya", "priya"),
            Invite(minutes(4), "priya", "jordan"),
            Update(
                minutes(6),
                "priya",
                "We treat the laptop as compromised: revoking its keys and sessions first, then "
                "checking production access since it was lost.",
                next_in=60,
            ),
            Work(
                minutes(7),
                "priya",
                "Revoke the laptop's SSH keys, VPN certificate and sessions",
                "jordan",
            ),
            Work(
                minutes(8),
                "priya",
                "Check production access logs since the laptop was lost",
                "jordan",
            ),
            Work(minutes(9), "priya", "Send the lock-and-wipe command to the laptop", "priya"),
            Done(
                minutes(30), "jordan", "Revoke the laptop's SSH keys, VPN certificate and sessions"
            ),
            Done(minutes(45), "priya", "Send the lock-and-wipe command to the laptop"),
            Update(
                hours(1),
                "priya",
                "Every credential on the laptop is revoked and the wipe runs as soon as it "
                "connects. No sign of use so far.",
                status="Fixing",
                next_in=120,
            ),
            Done(
                hours(2) + minutes(40),
                "jordan",
                "Check production access logs since the laptop was lost",
            ),
            Note(
                hours(2) + minutes(45),
                "jordan",
                "The airport's lost and found has no laptop matching the description yet.",
            ),
            Update(
                hours(2) + minutes(50),
                "priya",
                "Production access logs since the loss are clean. Waiting to hear from the "
                "airport.",
                next_in=120,
            ),
        ],
    ),
]
