"""The demo organisation's ten people, each with the role their job gives them, and its status page.
Scripts name people by their first name (``Who``); the player adds them as users before
any incident is declared."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from app.models import OrgRole

Who = Literal["alex", "sam", "erin", "priya", "jordan", "dana", "noah", "maya", "leo", "chloe"]


@dataclass(frozen=True)
class Person:
    who: Who
    email: str
    name: str
    role: OrgRole


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
