"""The incidents of the last ten days: some still being reviewed or documented, a phishing
campaign, one recorded after the fact, one declined in triage, and follow-ups still open. Two of
them were told to customers on the status page from start to resolution, each leaving its mark
on the mobile app's uptime: iPhone push notifications (run by support) and the Android app's
crash."""

from app.demo.steps import (
    Accept,
    Comms,
    Decline,
    Done,
    Follow,
    FollowUp,
    Lead,
    MakePublic,
    Past,
    PostStatus,
    Publish,
    Rename,
    Script,
    SetStatus,
    Update,
    Work,
    days,
    hours,
    minutes,
)
from app.models import ComponentStatus, StatusIncidentState

DAYS_AGO = [
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
            Comms(minutes(17), "jordan", "sam"),
            Publish(
                minutes(20),
                "sam",
                "Push notifications are not arriving on iPhone",
                "Since last night, iPhone users do not get push notifications from our app. "
                "Everything else in the app works, and Android is not affected. We are looking "
                "into it.",
                StatusIncidentState.INVESTIGATING,
                (("Mobile app", ComponentStatus.PARTIAL_OUTAGE),),
            ),
            Update(
                minutes(30),
                "noah",
                "Our Apple push certificate expired overnight. Renewing it.",
                status="Fixing",
                next_in=30,
            ),
            PostStatus(
                minutes(33),
                "sam",
                "We have found the cause, a credential with Apple that ran out, and are renewing "
                "it. Notifications should start arriving again within the hour.",
                StatusIncidentState.IDENTIFIED,
            ),
            Update(
                minutes(55),
                "noah",
                "New certificate deployed and notifications flow again. Those sent during the gap "
                "are not re-sent.",
                status="Monitoring",
                next_in=60,
            ),
            PostStatus(
                minutes(57),
                "sam",
                "Push notifications arrive on iPhone again. Notifications from the last few hours "
                "are not sent again, but everything they were about is in the app.",
                StatusIncidentState.MONITORING,
                (("Mobile app", ComponentStatus.OPERATIONAL),),
            ),
            Update(hours(2), "noah", "All good for an hour. Resolved.", status="Documenting"),
            PostStatus(
                hours(2) + minutes(2),
                "sam",
                "Push notifications have worked normally for an hour. This is resolved; sorry for "
                "the missed notifications.",
                StatusIncidentState.RESOLVED,
            ),
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
            Publish(
                minutes(22),
                "chloe",
                "Android app closes right after opening",
                "On Android 14, version 5.2 of our app closes as soon as it opens. We have found "
                "why and are preparing a fix. Until then, the website works on your phone's "
                "browser. iPhone and older Android versions are not affected.",
                StatusIncidentState.IDENTIFIED,
                (("Mobile app", ComponentStatus.PARTIAL_OUTAGE),),
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
            PostStatus(
                hours(2) + minutes(5),
                "chloe",
                "Version 5.2.1 fixes it: update the app from Google Play and it opens normally "
                "again.",
                StatusIncidentState.MONITORING,
                (("Mobile app", ComponentStatus.OPERATIONAL),),
            ),
            Update(hours(4), "alex", "No crashes since 5.2.1. Resolved.", status="Documenting"),
            PostStatus(
                hours(4) + minutes(5),
                "chloe",
                "No crashes since version 5.2.1. This is resolved.",
                StatusIncidentState.RESOLVED,
            ),
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
