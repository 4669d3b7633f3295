"""Every incident script of the demo, live ones first, then the earlier ones from the oldest;
the player sorts their steps by time, so this order only breaks ties between simultaneous steps."""

from app.demo.scripts.days_ago import DAYS_AGO
from app.demo.scripts.live import LIVE_NOW
from app.demo.scripts.weeks_ago import WEEKS_AGO

INCIDENTS = LIVE_NOW + WEEKS_AGO + DAYS_AGO
