"""The libtorrent session every interop script (lt.py, ltpeer.py) starts.

It reaches nothing beyond 127.0.0.1: it listens on 127.0.0.1:0 and dials
from 127.0.0.1 only, and DHT, LSD, UPnP and NAT-PMP are off. uTP is off
too: every client under test speaks plain TCP, which keeps the peer list
(one connection per peer) easy to read.
"""

import libtorrent as lt


def loopback_session(alert_mask, **settings):
    """A session posting the alert categories in alert_mask; settings add
    to (or override) the loopback-only ones."""
    s = {
        "listen_interfaces": "127.0.0.1:0",
        "outgoing_interfaces": "127.0.0.1",
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "enable_outgoing_utp": False,
        "enable_incoming_utp": False,
        "alert_mask": alert_mask,
    }
    s.update(settings)
    return lt.session(s)
