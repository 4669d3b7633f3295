"""The incidents of two to four weeks ago, all finished: among them a retired login service, a
single sign-on outage, a pricing launch, a game day and a public API outage, with the
follow-ups people took from them."""

from app.demo.people import STATUS_PAGE
from app.demo.steps import (
    Comms,
    Done,
    Drop,
    Follow,
    FollowUp,
    Lead,
    Note,
    Script,
    SetField,
    SetStatus,
    Update,
    Work,
    days,
    hours,
    minutes,
)

WEEKS_AGO = [
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
]
