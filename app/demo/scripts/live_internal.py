"""The live incidents only the company feels: the revenue dashboard showing zero for the EU,
the sales pipeline report double-counting renewals (in triage) and a private lost laptop with
production access, run by security; ``LIVE_NOW`` in ``live.py`` lists them among the others."""

from app.demo.steps import (
    Done,
    Follow,
    FollowUp,
    Invite,
    Lead,
    Note,
    Script,
    Update,
    Work,
    hours,
    minutes,
)

REVENUE_DASHBOARD = Script(
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
        Done(minutes(30), "dana", "Tell Finance and Sales leadership not to use EU numbers today"),
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
        FollowUp(hours(5), "dana", "Alert when the currency rates file is empty", "noah", due_in=7),
        Update(
            hours(5) + minutes(50),
            "dana",
            "The first hourly load after the fix is correct. One more to go.",
            next_in=60,
        ),
    ],
)

PIPELINE_REPORT = Script(
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
            "Sales leaders know not to use the pipeline report for forecasts until this is sorted.",
            next_in=60,
        ),
        Lead(minutes(3), "dana", "dana"),
    ],
)

LOST_LAPTOP = Script(
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
        Done(minutes(30), "jordan", "Revoke the laptop's SSH keys, VPN certificate and sessions"),
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
            "Production access logs since the loss are clean. Waiting to hear from the airport.",
            next_in=120,
        ),
    ],
)
