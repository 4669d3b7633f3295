"""The live incidents that are planned work run as war rooms, so everyone can follow along: the
orders database upgrade (which announces the invoices database's turn as maintenance for
Saturday night on the status page) and the launch of team workspaces; ``LIVE_NOW`` in
``live.py`` lists them among the others."""

from datetime import time

from app.demo.steps import (
    Comms,
    Done,
    Follow,
    Lead,
    Maintain,
    Note,
    Script,
    Update,
    Work,
    hours,
    minutes,
)

SATURDAY = 5

DATABASE_UPGRADE = Script(
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
)

LAUNCH = Script(
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
)
