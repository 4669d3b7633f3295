"""The demo organisation: ten people and a month of their incidents, for trying Muster out.
Each incident is a script (who declared what, how long ago, then who did what and when), and a
small interpreter plays the steps of every script in time order through the ordinary services,
on a clock set to each step's moment, so that timelines, update promises and timestamps are all
real. Everyone finds their own kind of incident: customers locked out for support, a revenue
dashboard showing zero for data, a private lost laptop for security (which the executive cannot
see), a migration and a launch run as war rooms, a game day, live incidents whose next update is
due within minutes (two overdue), and closed ones with follow-ups to learn from."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import ClassVar, Literal

from app.db import Database
from app.errors import Invalid
from app.models import (
    ActionKind,
    ActionStatus,
    CustomField,
    IncidentMode,
    OrgRole,
    RoleKind,
    User,
)
from app.services import (
    actions,
    catalog,
    declarations,
    fields,
    followers,
    incidents,
    members,
    roles,
    users,
)
from app.services.fields import FieldValue

# The words scripts are written in -----------------------------------------------------------------

Who = Literal["alex", "sam", "erin", "priya", "jordan", "dana", "noah", "maya", "leo", "chloe"]
TypeName = Literal[
    "Default",
    "Security",
    "Customer issue",
    "Data & dashboards",
    "Migration",
    "Product launch",
    "Game day",
]
SeverityName = Literal["Minor", "Major", "Critical"]
StatusName = Literal[
    "Investigating", "Fixing", "Monitoring", "Documenting", "Reviewing", "Closed", "Canceled"
]
FieldName = Literal["Affected features", "Affected teams", "Customers affected", "Status page"]
Value = tuple[str, ...] | int | str  # option names of a multi-select, a number, a link


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


def days(n: float) -> timedelta:
    return timedelta(days=n)


@dataclass(frozen=True)
class Person:
    who: Who
    email: str
    name: str
    role: OrgRole


@dataclass(frozen=True)
class Step:
    """Something ``by`` did, ``after`` the incident was declared."""

    after: timedelta
    by: Who


@dataclass(frozen=True)
class Accept(Step):
    """Accept the incident out of triage."""


@dataclass(frozen=True)
class Decline(Step):
    """Decide in triage that it is not an incident."""

    reason: str


@dataclass(frozen=True)
class Merge(Step):
    """Fold the incident into the one whose script has this ``key``."""

    into: str


@dataclass(frozen=True)
class Update(Step):
    """Share an update, maybe changing status or severity, and promise the next one."""

    message: str
    status: StatusName | None = None
    severity: SeverityName | None = None
    next_in: int | None = None  # minutes


@dataclass(frozen=True)
class SetStatus(Step):
    status: StatusName


@dataclass(frozen=True)
class SetSeverity(Step):
    severity: SeverityName


@dataclass(frozen=True)
class SetField(Step):
    field: FieldName
    value: Value


@dataclass(frozen=True)
class Rename(Step):
    name: str


@dataclass(frozen=True)
class MakePublic(Step):
    """Open a private-by-default incident to everyone."""


@dataclass(frozen=True)
class Lead(Step):
    """Make ``holder`` the incident lead."""

    holder: Who
    role: ClassVar[RoleKind] = RoleKind.LEAD


class Comms(Lead):
    """Make ``holder`` the communications lead."""

    role = RoleKind.COMMUNICATIONS


@dataclass(frozen=True)
class Work(Step):
    """Add an action for ``owner``, due some days later if ``due_in`` is given."""

    title: str
    owner: Who
    due_in: int | None = None  # days
    kind: ClassVar[ActionKind] = ActionKind.ACTION


class FollowUp(Work):
    """Add a follow-up: work to do after the incident."""

    kind = ActionKind.FOLLOW_UP


@dataclass(frozen=True)
class Done(Step):
    """Mark the action or follow-up with this title done."""

    title: str
    status: ClassVar[ActionStatus] = ActionStatus.DONE


class Drop(Done):
    """Decide not to do the action or follow-up with this title."""

    status = ActionStatus.NOT_DOING


@dataclass(frozen=True)
class Invite(Step):
    guest: Who


@dataclass(frozen=True)
class Note(Step):
    message: str


@dataclass(frozen=True)
class Follow(Step):
    """Follow the incident (``by`` is the follower)."""


@dataclass(frozen=True)
class Past:
    """When a retrospective incident really happened, counted back from when it was recorded."""

    began: timedelta
    lasted: timedelta


@dataclass(frozen=True, kw_only=True)
class Script:
    """One incident: declared ``ago`` (before now) by ``by``, then its steps in order."""

    name: str
    by: Who
    ago: timedelta
    type: TypeName
    severity: SeverityName
    summary: str
    fields: Mapping[FieldName, Value] = field(default_factory=dict)
    triage: bool = False
    next_update: int | None = None  # minutes
    happened: Past | None = None  # recorded after the fact
    key: str = ""  # for merging into it
    steps: Sequence[Step] = ()


# The organisation ---------------------------------------------------------------------------------

PEOPLE = (
    Person("alex", "admin@demo.muster", "Alex Morgan", OrgRole.ADMIN),  # head of engineering
    Person("sam", "support@demo.muster", "Sam Rivera", OrgRole.MEMBER),  # customer support
    Person("erin", "exec@demo.muster", "Erin Walsh", OrgRole.VIEWER),  # chief operating officer
    Person("priya", "security@demo.muster", "Priya Shah", OrgRole.MEMBER),  # security
    Person("jordan", "sre@demo.muster", "Jordan Lee", OrgRole.RESPONDER),  # SRE
    Person("dana", "data@demo.muster", "Dana Kim", OrgRole.MEMBER),  # data and RevOps
    Person("noah", "platform@demo.muster", "Noah Okafor", OrgRole.RESPONDER),  # SRE, platform
    Person("maya", "product@demo.muster", "Maya Cohen", OrgRole.MEMBER),  # product manager
    Person("leo", "payments@demo.muster", "Leo Martins", OrgRole.RESPONDER),  # payments engineer
    Person("chloe", "success@demo.muster", "Chloe Dubois", OrgRole.MEMBER),  # customer success lead
)
STATUS_PAGE = "https://status.demo.muster/incidents/"

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
            Comms(minutes(15), "jordan", "chloe"),
            Follow(minutes(16), "erin"),
            Work(minutes(18), "jordan", "Send affected customers a one-time sign-in link", "sam"),
            Note(
                minutes(22),
                "sam",
                "Five more tickets in the last ten minutes, all from accounts that mix single "
                "sign-on and passwords.",
            ),
            SetField(minutes(25), "chloe", "Customers affected", 41),
            Work(
                minutes(26),
                "jordan",
                "Roll the session service back to the previous version",
                "noah",
            ),
            Update(
                minutes(40),
                "chloe",
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

EARLIER = [
    Script(
        name="Status page showed an outage that wasn't there",
        by="chloe",
        ago=days(29) + hours(3),
        type="Default",
        severity="Minor",
        summary="Our public status page showed a major API outage for 20 minutes while everything "
        "worked. Customers asked us about it.",
        fields={"Affected features": ("Public API",), "Affected teams": ("Support",)},
        steps=[
            Lead(minutes(5), "jordan", "jordan"),
            Update(
                minutes(15),
                "jordan",
                "A status page probe still pointed at an old API address. Fixed the probe and "
                "cleared the entry on the status page.",
                status="Documenting",
            ),
            FollowUp(
                days(1), "jordan", "Review every status page probe target", "jordan", due_in=7
            ),
            Done(days(3), "jordan", "Review every status page probe target"),
            SetStatus(days(5), "jordan", "Closed"),
        ],
    ),
    Script(
        name="Retire the legacy login service",
        by="jordan",
        ago=days(27) + hours(4),
        type="Migration",
        severity="Major",
        summary="Turning off the old login service now that every app uses the new one. If anyone "
        "cannot sign in, we turn it back on.",
        steps=[
            Lead(minutes(1), "jordan", "jordan"),
            Comms(minutes(2), "jordan", "sam"),
            Update(
                minutes(5),
                "jordan",
                "Nothing has called the old service for 7 days. Switching it off.",
                status="Fixing",
                next_in=30,
            ),
            Update(
                minutes(35),
                "sam",
                "No sign-in complaints from customers in the last 30 minutes.",
                next_in=60,
            ),
            Update(
                hours(1) + minutes(30),
                "jordan",
                "The old service has been off for an hour: no errors, no tickets. Closing the war "
                "room.",
                status="Closed",
            ),
            FollowUp(
                hours(1) + minutes(35),
                "jordan",
                "Delete the old login database once the retention period ends",
                "jordan",
                due_in=60,
            ),
        ],
    ),
    Script(
        name="Deploys blocked: build servers out of disk",
        by="noah",
        ago=days(25) + hours(1),
        type="Default",
        severity="Minor",
        summary="No team can deploy: every build fails with 'no space left on device'.",
        fields={"Affected teams": ("Platform",)},
        steps=[
            Lead(minutes(1), "noah", "noah"),
            Update(
                minutes(10),
                "noah",
                "Old build caches filled the disks. Clearing them; deploys should resume in about "
                "20 minutes.",
                status="Fixing",
                next_in=30,
            ),
            Update(minutes(35), "noah", "Deploys are flowing again.", status="Closed"),
            FollowUp(minutes(40), "noah", "Clean the build caches every night", "noah"),
            Done(days(2), "noah", "Clean the build caches every night"),
        ],
    ),
    Script(
        name="Invoices show the wrong VAT rate for Irish customers",
        by="chloe",
        ago=days(23) + hours(2),
        type="Customer issue",
        severity="Major",
        summary="Irish customers noticed their invoices charge last year's VAT rate.",
        fields={"Affected teams": ("Payments", "Sales"), "Customers affected": 310},
        steps=[
            Lead(minutes(5), "leo", "leo"),
            Comms(minutes(6), "leo", "chloe"),
            Update(
                minutes(30),
                "leo",
                "Our tax table still had last year's Irish rate. Correcting it so new invoices are "
                "right.",
                status="Fixing",
                next_in=120,
            ),
            Update(
                hours(2),
                "leo",
                "The rate is fixed. Next we reissue the 310 invoices already sent.",
                status="Monitoring",
                next_in=240,
            ),
            Work(hours(2) + minutes(10), "leo", "Reissue the 310 affected invoices", "leo"),
            Done(days(1), "leo", "Reissue the 310 affected invoices"),
            Update(
                days(1) + hours(1),
                "chloe",
                "Every affected invoice is reissued and the customers have been emailed.",
                status="Closed",
            ),
            FollowUp(
                days(1) + hours(2), "leo", "Build our own monitor for tax rate changes", "leo"
            ),
            FollowUp(
                days(1) + hours(3),
                "leo",
                "Switch to the billing provider's automatic tax rates",
                "leo",
                due_in=30,
            ),
            Drop(days(4), "leo", "Build our own monitor for tax rate changes"),
        ],
    ),
    Script(
        name="Customers using Okta single sign-on can't log in",
        by="sam",
        ago=days(18) + hours(5),
        type="Customer issue",
        severity="Major",
        summary="Customers who sign in through Okta get 'access denied'. Password logins work.",
        fields={
            "Affected features": ("Login",),
            "Affected teams": ("Support", "Platform"),
            "Customers affected": 64,
        },
        steps=[
            Lead(minutes(5), "sam", "jordan"),
            Comms(minutes(6), "jordan", "sam"),
            Update(
                minutes(15),
                "jordan",
                "Okta logins fail since yesterday's change to how we read group claims. Reverting "
                "it.",
                status="Fixing",
                next_in=30,
            ),
            Update(
                minutes(40),
                "jordan",
                "Reverted: Okta logins work again.",
                status="Monitoring",
                next_in=60,
            ),
            Update(
                hours(1) + minutes(50),
                "jordan",
                "No failures for an hour. Resolved.",
                status="Closed",
            ),
            Note(days(1), "sam", "Two customers report the same error again today."),
            Update(
                days(1) + minutes(5),
                "jordan",
                "Reopening: customers whose Okta group names contain a comma still fail. Fixing "
                "the parser.",
                status="Fixing",
                next_in=60,
            ),
            Update(
                days(1) + hours(1),
                "jordan",
                "Fix deployed; both customers can log in.",
                status="Documenting",
            ),
            FollowUp(
                days(1) + hours(2),
                "jordan",
                "Add Okta group names with commas to the single sign-on tests",
                "jordan",
                due_in=7,
            ),
            Done(days(3), "jordan", "Add Okta group names with commas to the single sign-on tests"),
            SetStatus(days(4), "jordan", "Closed"),
        ],
    ),
    Script(
        name="Launch: new pricing page",
        by="maya",
        ago=days(16) + hours(6),
        type="Product launch",
        severity="Minor",
        summary="The new pricing page and plan names go live today. Marketing, sales and support "
        "need to be ready at the same time.",
        steps=[
            Lead(minutes(1), "maya", "maya"),
            Comms(minutes(2), "maya", "chloe"),
            Follow(minutes(3), "erin"),
            Work(minutes(5), "maya", "Publish the new pricing page", "noah"),
            Work(minutes(6), "maya", "Update the help centre articles", "sam"),
            Work(minutes(7), "maya", "Update the sales decks with the new plan names", "dana"),
            Done(minutes(30), "noah", "Publish the new pricing page"),
            Update(
                minutes(35),
                "maya",
                "The pricing page is live and old plan links redirect.",
                status="Monitoring",
                next_in=60,
            ),
            Done(hours(1), "sam", "Update the help centre articles"),
            Done(hours(2), "dana", "Update the sales decks with the new plan names"),
            Update(
                hours(3),
                "maya",
                "Everything is live and sales has the new decks. Closing the war room.",
                status="Closed",
            ),
        ],
    ),
    Script(
        name="Password reset emails land in spam for Outlook users",
        by="sam",
        ago=days(15) + hours(2),
        type="Customer issue",
        severity="Minor",
        summary="Customers with Outlook addresses don't receive password reset emails; they end up "
        "in spam.",
        fields={
            "Affected features": ("Login", "Notifications"),
            "Affected teams": ("Support",),
            "Customers affected": 25,
        },
        steps=[
            Lead(minutes(10), "jordan", "jordan"),
            Update(
                minutes(30),
                "jordan",
                "Outlook flags our emails since we added a sending server that is missing from our "
                "SPF record. Adding it.",
                status="Fixing",
                next_in=60,
            ),
            Update(
                hours(1) + minutes(20),
                "jordan",
                "SPF record fixed; test emails reach Outlook inboxes again.",
                status="Monitoring",
                next_in=240,
            ),
            Update(hours(6), "jordan", "No new reports. Resolved.", status="Reviewing"),
            SetStatus(days(2), "jordan", "Closed"),
        ],
    ),
    Script(
        name="Game day: staging is down, as reported by our external probes",
        by="noah",
        ago=days(14) + hours(5),
        type="Game day",
        severity="Critical",
        summary="Practice run. External probes report the staging dashboard and API serving 500s. "
        "Respond as if it were production: roles, updates, actions. Expect curveballs.",
        steps=[
            Lead(minutes(1), "noah", "jordan"),
            Comms(minutes(2), "jordan", "chloe"),
            Update(
                minutes(5),
                "jordan",
                "Staging returns 500 on every request and the load balancer marks every web node "
                "unhealthy. Investigating.",
                next_in=15,
            ),
            Work(minutes(12), "jordan", "Check the last deploy to staging", "leo"),
            Update(
                minutes(18),
                "jordan",
                "Curveball: the database disk is full, so the web nodes cannot write sessions. "
                "Freeing space.",
                status="Fixing",
                next_in=15,
            ),
            Done(minutes(22), "leo", "Check the last deploy to staging"),
            Update(
                minutes(30),
                "jordan",
                "Disk space freed and staging serves again. Watching for 15 minutes.",
                status="Monitoring",
                next_in=15,
            ),
            Update(
                minutes(48),
                "jordan",
                "Staging has been healthy for 15 minutes. Game day over, thank you all; debrief "
                "later today.",
                status="Documenting",
            ),
            FollowUp(days(1), "noah", "Alert on database disk usage above 80%", "jordan", due_in=7),
            FollowUp(
                days(1) + hours(1),
                "noah",
                "Add a full-disk runbook to the on-call handbook",
                "noah",
            ),
            Done(days(3), "jordan", "Alert on database disk usage above 80%"),
            SetStatus(days(4), "noah", "Closed"),
        ],
    ),
    Script(
        name="Public API returning 503 for all customers",
        by="jordan",
        ago=days(12) + hours(9),
        type="Default",
        severity="Critical",
        summary="Every request to the public API fails with 503. The web app works; integrations "
        "and the mobile apps do not.",
        fields={
            "Affected features": ("Public API",),
            "Affected teams": ("Platform",),
            "Customers affected": 2300,
        },
        steps=[
            Lead(minutes(1), "jordan", "jordan"),
            Comms(minutes(2), "jordan", "chloe"),
            Follow(minutes(3), "erin"),
            Update(
                minutes(5),
                "jordan",
                "The API gateway lost its connection to the service registry after a certificate "
                "rotation. Rolling the gateway back.",
                status="Fixing",
                next_in=15,
            ),
            Work(
                minutes(6),
                "jordan",
                "Roll the API gateway back to the previous certificate",
                "noah",
            ),
            SetField(minutes(10), "chloe", "Status page", STATUS_PAGE + "public-api-503"),
            Done(minutes(14), "noah", "Roll the API gateway back to the previous certificate"),
            Update(
                minutes(16),
                "jordan",
                "API traffic flows again after 14 minutes of full outage. Watching error rates.",
                status="Monitoring",
                next_in=30,
            ),
            Update(
                minutes(46),
                "jordan",
                "Error rates have been normal for 30 minutes. Resolved.",
                status="Documenting",
            ),
            FollowUp(
                days(1), "jordan", "Alert before gateway certificates expire", "noah", due_in=7
            ),
            FollowUp(
                days(1) + minutes(5),
                "jordan",
                "Rehearse certificate rotation on staging first",
                "jordan",
                due_in=14,
            ),
            SetStatus(days(2), "jordan", "Reviewing"),
            Done(days(4), "noah", "Alert before gateway certificates expire"),
            SetStatus(days(5), "alex", "Closed"),
        ],
    ),
    Script(
        name="Churn dashboard is missing last month's cohort",
        by="dana",
        ago=days(11) + hours(3),
        type="Data & dashboards",
        severity="Minor",
        summary="The churn dashboard has no row for last month's sign-ups, so the monthly churn "
        "review cannot happen.",
        steps=[
            Lead(minutes(1), "dana", "dana"),
            Update(
                minutes(20),
                "dana",
                "The cohort query filtered on the wrong date column after a schema change. A fix "
                "is in review.",
                status="Fixing",
                next_in=120,
            ),
            Update(
                hours(2),
                "dana",
                "Fixed and backfilled: last month's cohort is back.",
                status="Closed",
            ),
            FollowUp(
                hours(2) + minutes(5), "dana", "Add a check that every month has a cohort", "dana"
            ),
            Done(days(2), "dana", "Add a check that every month has a cohort"),
        ],
    ),
    Script(
        name="Phishing emails impersonating our billing team",
        by="priya",
        ago=days(10) + hours(4),
        type="Security",
        severity="Major",
        summary="Customers receive emails that look like our invoices, with a link to a fake "
        "payment page. They are not sent from our systems.",
        steps=[
            Lead(minutes(2), "priya", "priya"),
            Update(
                minutes(5),
                "priya",
                "The emails come from a look-alike domain. Our systems and customer data are not "
                "involved. Asking for the domain to be taken down.",
                next_in=60,
            ),
            MakePublic(minutes(10), "priya"),
            Comms(minutes(11), "priya", "chloe"),
            Work(minutes(15), "priya", "Request a takedown of the look-alike domain", "priya"),
            Update(
                minutes(20),
                "chloe",
                "Support: tell customers we never ask for card details by email, and to forward "
                "suspicious emails to our security team. A banner is up in the app.",
                next_in=120,
            ),
            Follow(minutes(25), "erin"),
            Done(days(1), "priya", "Request a takedown of the look-alike domain"),
            Update(
                days(1) + hours(1),
                "priya",
                "The look-alike domain is down. No new reports for six hours.",
                status="Documenting",
            ),
            FollowUp(
                days(1) + hours(2),
                "priya",
                "Publish a strict DMARC policy for every domain we send from",
                "jordan",
                due_in=14,
            ),
            SetStatus(days(3), "priya", "Closed"),
        ],
    ),
    Script(
        name="Sales demo environment down an hour before a customer demo",
        by="dana",
        ago=days(9) + hours(1),
        type="Default",
        severity="Major",
        summary="The sales demo environment shows an error page. A prospect demo starts in an "
        "hour.",
        fields={"Affected teams": ("Sales", "Platform")},
        steps=[
            Lead(minutes(3), "dana", "noah"),
            Update(
                minutes(10),
                "noah",
                "The nightly cost-saving job paused the demo environment's database. Waking it up.",
                status="Fixing",
                next_in=15,
            ),
            Update(
                minutes(20),
                "noah",
                "The demo environment is back, with 40 minutes to spare.",
                status="Closed",
            ),
            FollowUp(
                minutes(25),
                "noah",
                "Keep the cost-saving job away from the sales demo environment",
                "noah",
            ),
            Done(days(1), "noah", "Keep the cost-saving job away from the sales demo environment"),
        ],
    ),
    Script(
        name="Invoice emails went out twice to 1,200 customers",
        by="chloe",
        ago=days(8) + hours(2),
        type="Customer issue",
        severity="Minor",
        summary="A retried billing job sent every invoice email of its run twice. Nobody was "
        "charged twice, but many customers wrote in. Recorded after the fact to follow up.",
        fields={
            "Affected features": ("Notifications",),
            "Affected teams": ("Support", "Payments"),
            "Customers affected": 1200,
        },
        happened=Past(began=hours(20), lasted=hours(3)),
        steps=[
            Lead(minutes(5), "chloe", "chloe"),
            FollowUp(
                minutes(10),
                "chloe",
                "Make the billing job safe to retry without sending emails again",
                "leo",
                due_in=14,
            ),
            FollowUp(
                minutes(12),
                "chloe",
                "Add a help desk reply for duplicate invoice emails",
                "sam",
                due_in=3,
            ),
            Done(days(1), "sam", "Add a help desk reply for duplicate invoice emails"),
        ],
    ),
    Script(
        name="Finance report is late: warehouse load stuck",
        by="dana",
        ago=days(7) + hours(6),
        type="Data & dashboards",
        severity="Major",
        summary="The nightly warehouse load has been stuck for five hours, so the daily finance "
        "report has not gone out. Month-end close depends on it.",
        steps=[
            Lead(minutes(2), "dana", "noah"),
            Follow(minutes(3), "erin"),
            Update(
                minutes(20),
                "noah",
                "A long-running analytics query holds a lock that blocks the load. Stopping the "
                "query and restarting the load.",
                status="Fixing",
                next_in=60,
            ),
            Update(
                hours(1) + minutes(30),
                "noah",
                "The load is complete; Dana is sending the finance report.",
                status="Monitoring",
                next_in=60,
            ),
            Update(
                hours(1) + minutes(45),
                "dana",
                "Finance report sent, six hours late. Finance confirms month-end close is on "
                "track.",
                status="Documenting",
            ),
            FollowUp(
                days(1),
                "noah",
                "Stop analytics queries that hold locks for over 10 minutes",
                "noah",
                due_in=14,
            ),
            SetStatus(days(2), "dana", "Reviewing"),
        ],
    ),
    Script(
        name="Customer says checkout is down",
        by="sam",
        ago=days(6) + hours(3),
        type="Customer issue",
        severity="Critical",
        summary="A customer emailed a screenshot of an error on the checkout page.",
        fields={"Affected features": ("Checkout",), "Customers affected": 1},
        steps=[
            Update(
                minutes(4),
                "sam",
                "False alarm: the customer used an old bookmark to a checkout page we retired last "
                "year. Checkout works.",
                status="Canceled",
            ),
        ],
    ),
    Script(
        name="Push notifications not delivered on iOS",
        by="sam",
        ago=days(5) + hours(7),
        type="Customer issue",
        severity="Major",
        summary="iPhone users stopped getting push notifications overnight. Android is fine.",
        fields={
            "Affected features": ("Notifications",),
            "Affected teams": ("Support", "Platform"),
            "Customers affected": 430,
        },
        triage=True,
        steps=[
            Accept(minutes(15), "jordan"),
            Lead(minutes(16), "jordan", "noah"),
            Update(
                minutes(30),
                "noah",
                "Our Apple push certificate expired overnight. Renewing it.",
                status="Fixing",
                next_in=30,
            ),
            Update(
                minutes(55),
                "noah",
                "New certificate deployed and notifications flow again. Those sent during the gap "
                "are not re-sent.",
                status="Monitoring",
                next_in=60,
            ),
            Update(hours(2), "noah", "All good for an hour. Resolved.", status="Documenting"),
            FollowUp(
                days(1),
                "noah",
                "Track the expiry date of every Apple and Google credential in one place",
                "jordan",
                due_in=10,
            ),
            SetStatus(days(2), "noah", "Reviewing"),
        ],
    ),
    Script(
        name="Annual plan renewals charged twice",
        by="chloe",
        ago=days(3) + hours(2),
        type="Customer issue",
        severity="Critical",
        summary="87 customers on annual plans were charged twice for their renewal today. They "
        "need refunds and an apology.",
        fields={
            "Affected features": ("Checkout",),
            "Affected teams": ("Payments", "Support"),
            "Customers affected": 87,
        },
        steps=[
            Lead(minutes(2), "leo", "leo"),
            Comms(minutes(3), "leo", "chloe"),
            Follow(minutes(4), "erin"),
            Update(
                minutes(10),
                "leo",
                "The renewal job ran twice after a deploy restarted it halfway. It is stopped; no "
                "more double charges will happen.",
                status="Fixing",
                next_in=30,
            ),
            Work(minutes(15), "leo", "Refund the second charge for all 87 customers", "leo"),
            Work(minutes(20), "leo", "Email every affected customer an apology", "chloe"),
            Done(hours(1) + minutes(30), "leo", "Refund the second charge for all 87 customers"),
            Done(hours(1) + minutes(35), "chloe", "Email every affected customer an apology"),
            Update(
                hours(1) + minutes(40),
                "chloe",
                "All 87 second charges are refunded; customers see them within 5 days. The apology "
                "emails are out.",
                status="Monitoring",
                next_in=120,
            ),
            Update(
                hours(4),
                "leo",
                "No duplicates in the later renewal runs. Resolved.",
                status="Documenting",
            ),
            FollowUp(
                days(1),
                "leo",
                "Make the renewal job charge each invoice only once",
                "leo",
                due_in=14,
            ),
        ],
    ),
    Script(
        name="Office Wi-Fi on the third floor keeps dropping",
        by="maya",
        ago=days(2) + hours(5),
        type="Default",
        severity="Minor",
        summary="The Wi-Fi on the third floor drops every few minutes; video calls keep cutting "
        "out.",
        triage=True,
        steps=[
            Decline(
                minutes(20),
                "jordan",
                "Not an incident: nothing customer-facing, and IT already has a ticket for that "
                "access point. Passed to the IT helpdesk.",
            ),
        ],
    ),
    Script(
        name="Android app crashing",
        by="maya",
        ago=days(1) + hours(20),
        type="Default",
        severity="Major",
        summary="The Android app crashes right after opening on Android 14 since version 5.2 went "
        "out. iPhone and older Android versions are fine.",
        fields={"Affected teams": ("Support", "Platform"), "Customers affected": 900},
        steps=[
            Lead(minutes(5), "alex", "alex"),
            Comms(minutes(6), "alex", "chloe"),
            Rename(minutes(8), "alex", "Android app crashes on launch for Android 14 users"),
            Follow(minutes(10), "erin"),
            Update(
                minutes(20),
                "alex",
                "Version 5.2 crashes on Android 14 when it asks for permission to send "
                "notifications. Halting the rollout at 20%.",
                status="Fixing",
                next_in=60,
            ),
            Work(minutes(25), "alex", "Halt the 5.2 rollout in the Play Store", "maya"),
            Done(minutes(30), "maya", "Halt the 5.2 rollout in the Play Store"),
            Update(
                hours(2),
                "alex",
                "Version 5.2.1 with the fix is out and crash reports dropped to zero.",
                status="Monitoring",
                next_in=120,
            ),
            Update(hours(4), "alex", "No crashes since 5.2.1. Resolved.", status="Documenting"),
            FollowUp(
                hours(5),
                "alex",
                "Add Android 14 phones to the release test matrix",
                "noah",
                due_in=14,
            ),
        ],
    ),
]

INCIDENTS = LIVE_NOW + EARLIER


# Playing the scripts ------------------------------------------------------------------------------


class _Clock:
    """The time the services read: moved to each step's moment before the step runs."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@dataclass
class _Playing:
    """A script being played: the incident it declared, and the ids of its work by title."""

    script: Script
    incident_id: int = 0
    work: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class _Cue:
    at: datetime
    playing: _Playing
    step: Step | None  # None declares the incident


def _cues(now: datetime) -> list[_Cue]:
    """Every declaration and step of every script, in the order they happened."""
    cues = []
    for script in INCIDENTS:
        playing = _Playing(script)
        declared = now - script.ago
        cues.append(_Cue(declared, playing, None))
        previous = timedelta()
        for step in script.steps:
            if not previous < step.after <= script.ago:
                raise ValueError(f"{script.name}: a step goes back in time or into the future.")
            previous = step.after
            cues.append(_Cue(declared + step.after, playing, step))
    return sorted(cues, key=lambda cue: cue.at)  # stable: simultaneous cues keep script order


@dataclass(frozen=True)
class _Stage:
    """What the steps refer to by name, resolved to the people and ids in the database."""

    db: Database
    people: dict[Who, User]
    severities: dict[str, int]
    statuses: dict[str, int]
    types: dict[str, int]
    roles: dict[RoleKind, int]
    custom_fields: dict[str, CustomField]
    keys: dict[str, int] = field(default_factory=dict)

    def severity(self, name: SeverityName | None) -> int | None:
        return None if name is None else self.severities[name]

    def status(self, name: StatusName | None) -> int | None:
        return None if name is None else self.statuses[name]

    def field_values(self, values: Mapping[FieldName, Value]) -> dict[int, FieldValue]:
        return {self.custom_fields[n].id: self.value(n, value) for n, value in values.items()}

    def value(self, name: FieldName, value: Value) -> FieldValue:
        if isinstance(value, tuple):
            options = {option.value: option.id for option in self.custom_fields[name].options}
            return [options[choice] for choice in value]
        return value

    async def declare(self, playing: _Playing) -> None:
        script = playing.script
        mode = declared_at = resolved_at = None
        if script.happened is not None:
            mode = IncidentMode.RETROSPECTIVE
            declared_at = self.db.now() - script.happened.began
            resolved_at = declared_at + script.happened.lasted
        incident = await declarations.declare(
            self.db,
            actor=self.people[script.by],
            name=script.name,
            summary=script.summary,
            severity_id=self.severities[script.severity],
            type_id=self.types[script.type],
            mode=mode,
            triage=script.triage,
            custom_fields=self.field_values(script.fields),
            next_update_in_minutes=script.next_update,
            declared_at=declared_at,
            resolved_at=resolved_at,
        )
        playing.incident_id = incident.id
        if script.key:
            self.keys[script.key] = incident.id

    async def play(self, playing: _Playing, step: Step) -> None:
        db, actor, incident_id = self.db, self.people[step.by], playing.incident_id
        match step:
            case Accept():
                await incidents.accept(db, actor=actor, incident_id=incident_id)
            case Decline(reason=reason):
                await incidents.decline(db, actor=actor, incident_id=incident_id, reason=reason)
            case Merge(into=key):
                await incidents.merge(
                    db, actor=actor, incident_id=incident_id, into_id=self.keys[key]
                )
            case Update():
                await incidents.share_update(
                    db,
                    actor=actor,
                    incident_id=incident_id,
                    message=step.message,
                    status_id=self.status(step.status),
                    severity_id=self.severity(step.severity),
                    next_update_in_minutes=step.next_in,
                )
            case SetStatus(status=status):
                await incidents.change_status(
                    db, actor=actor, incident_id=incident_id, status_id=self.statuses[status]
                )
            case SetSeverity(severity=severity):
                await incidents.change_severity(
                    db, actor=actor, incident_id=incident_id, severity_id=self.severities[severity]
                )
            case SetField(field=name, value=value):
                await fields.set_custom_field_value(
                    db,
                    actor=actor,
                    incident_id=incident_id,
                    field_id=self.custom_fields[name].id,
                    value=self.value(name, value),
                )
            case Rename(name=name):
                await incidents.change_details(db, actor=actor, incident_id=incident_id, name=name)
            case MakePublic():
                await incidents.change_visibility(
                    db, actor=actor, incident_id=incident_id, private=False
                )
            case Lead(holder=holder):
                await roles.assign_role(
                    db,
                    actor=actor,
                    incident_id=incident_id,
                    role_id=self.roles[step.role],
                    user_id=self.people[holder].id,
                )
            case Work(title=title, owner=owner, due_in=due_in):
                due_on = None if due_in is None else (db.now() + days(due_in)).date()
                action = await actions.add_action(
                    db,
                    actor=actor,
                    incident_id=incident_id,
                    title=title,
                    owner_id=self.people[owner].id,
                    due_on=due_on,
                    kind=step.kind,
                )
                playing.work[title] = action.id
            case Done(title=title):
                await actions.update_action(
                    db, actor=actor, action_id=playing.work[title], status=step.status
                )
            case Invite(guest=guest):
                await members.invite(
                    db, actor=actor, incident_id=incident_id, user_id=self.people[guest].id
                )
            case Note(message=message):
                await incidents.add_note(db, actor=actor, incident_id=incident_id, message=message)
            case Follow():
                await followers.follow(db, actor=actor, incident_id=incident_id)


async def _open_stage(db: Database) -> _Stage:
    people = {
        person.who: await users.add_user(db, email=person.email, name=person.name, role=person.role)
        for person in PEOPLE
    }
    async with db.read() as session:
        return _Stage(
            db=db,
            people=people,
            severities={s.name: s.id for s in await catalog.list_severities(session)},
            statuses={s.name: s.id for s in await catalog.list_statuses(session)},
            types={t.name: t.id for t in await catalog.list_incident_types(session)},
            roles={r.kind: r.id for r in await catalog.list_incident_roles(session)},
            custom_fields={f.name: f for f in await catalog.list_custom_fields(session)},
        )


async def seed(db: Database) -> int:
    """Add the demo people and play every incident script; returns the incidents declared."""
    async with db.read() as session:
        for person in PEOPLE:
            if await users.find_user_by_email(session, person.email) is not None:
                raise Invalid("The demo organisation is already there.")
    now = db.now().replace(second=0, microsecond=0)
    cues = _cues(now)
    clock = _Clock(now - days(90))  # the people joined well before this month's incidents
    demo_db = Database(db.url, clock=clock)
    try:
        stage = await _open_stage(demo_db)
        for cue in cues:
            clock.at = cue.at
            if cue.step is None:
                await stage.declare(cue.playing)
            else:
                await stage.play(cue.playing, cue.step)
    finally:
        await demo_db.dispose()
    return len(INCIDENTS)
