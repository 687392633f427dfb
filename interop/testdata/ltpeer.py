#!/usr/bin/env python3
"""A long-running libtorrent peer for swarmlab's interop tests and bench/client.

    ltpeer.py TORRENT SAVE_PATH [--seed] [--preset high_performance_seed]

Adds TORRENT (with the trackers it names: finding peers through the tracker
is the point) to a libtorrent session, seeding when --seed is given and the
data under SAVE_PATH passes the hash check, downloading into SAVE_PATH
otherwise. The peer is steered over its standard streams, one JSON object a
line each way, so the Go test can wait on events rather than on time:

  stdin  {"cmd": "status"}                      -> {"event": "status", ...}
         {"cmd": "connect", "ip": IP, "port": N} -> {"event": "connected", ...}
         {"cmd": "reannounce"}                  -> {"event": "reannounced"}
         {"cmd": "quit"}                        (or EOF) ends the process
  stdout {"event": "listening", "port": N}      once, before anything else
         {"event": "tracker_reply", "url": U, "num_peers": N}
         {"event": "tracker_error", "url": U, "message": M}
         {"event": "finished"}                  all pieces checked and on disk
         {"event": "error", "message": M}

Nothing here reaches beyond 127.0.0.1: the session is ltsession.py's
loopback-only one, and peer exchange is off too, so the tracker is the only
way this peer learns of others besides an explicit "connect" (which the
direct client tests and bench/client use to point a libtorrent downloader
at a seed).
"""

import argparse
import json
import os
import queue
import sys
import threading

import libtorrent as lt

# Importing the module beside this script must not leave a __pycache__ in
# the source tree.
sys.dont_write_bytecode = True
from ltsession import loopback_session  # noqa: E402

_out_lock = threading.Lock()


def emit(obj):
    with _out_lock:
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()


def read_commands(q):
    """Feeds stdin's JSON lines to q; None marks EOF."""
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            q.put(json.loads(line))
        except ValueError as e:
            emit({"event": "error", "message": "bad command %r: %s" % (line, e)})
    q.put(None)


def status(h):
    st = h.status()
    peers = []
    for p in h.get_peer_info():
        peers.append({
            "ip": p.ip[0],
            "port": p.ip[1],
            "client": p.client.decode("utf-8", "replace") if isinstance(p.client, bytes) else p.client,
            "seed": bool(p.flags & lt.peer_info.seed),
            "source_tracker": bool(p.source & lt.peer_info.tracker),
        })
    trackers = []
    for t in h.trackers():
        trackers.append({"url": t["url"], "fails": t.get("fails", 0)})
    return {
        "event": "status",
        "state": str(st.state),
        "progress": st.progress,
        "is_seeding": st.is_seeding,
        "num_pieces": st.num_pieces,
        "total_upload": st.total_payload_upload,
        "total_download": st.total_payload_download,
        "peers": peers,
        "trackers": trackers,
    }


def preset(name):
    """The settings where libtorrent's preset `name` differs from its
    defaults. None of them is one of the loopback-only settings."""
    if name == "default":
        return {}
    chosen, defaults = lt.high_performance_seed(), lt.default_settings()
    return {k: v for k, v in chosen.items() if defaults.get(k) != v}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("torrent")
    ap.add_argument("save_path")
    ap.add_argument("--seed", action="store_true")
    ap.add_argument("--preset", choices=["default", "high_performance_seed"], default="default",
                    help="start from one of libtorrent's settings presets")
    args = ap.parse_args()

    # A tracker on loopback is what the tests are about; libtorrent's SSRF
    # guard only insists on an /announce path, which theirs have.
    ses = loopback_session(
        lt.alert.category_t.status_notification
        | lt.alert.category_t.error_notification
        | lt.alert.category_t.storage_notification
        | lt.alert.category_t.tracker_notification,
        # Every peer in these tests is 127.0.0.1, told apart only by port.
        allow_multiple_connections_per_ip=True,
        **preset(args.preset))

    atp = lt.add_torrent_params()
    atp.ti = lt.torrent_info(args.torrent)
    atp.save_path = os.path.abspath(args.save_path)
    atp.flags = (lt.torrent_flags.disable_dht
                 | lt.torrent_flags.disable_lsd
                 | lt.torrent_flags.disable_pex)
    # A seed keeps its data checked (no seed_mode shortcut), so a seed with
    # the wrong bytes shows up as a failed check, not as a corrupt download.
    h = ses.add_torrent(atp)

    q = queue.Queue()
    threading.Thread(target=read_commands, args=(q,), daemon=True).start()

    listening = False
    finished_sent = False
    flushed = False
    while True:
        ses.wait_for_alert(100)
        for a in ses.pop_alerts():
            if isinstance(a, lt.listen_succeeded_alert) and not listening:
                listening = True
                emit({"event": "listening", "port": a.port})
            elif isinstance(a, lt.listen_failed_alert):
                emit({"event": "error", "message": a.message()})
            elif isinstance(a, lt.tracker_reply_alert):
                emit({"event": "tracker_reply", "url": a.url, "num_peers": a.num_peers})
            elif isinstance(a, lt.tracker_error_alert):
                emit({"event": "tracker_error", "url": a.url, "message": a.message()})
            elif isinstance(a, (lt.torrent_finished_alert, lt.torrent_checked_alert)):
                st = h.status()
                if st.is_seeding and not finished_sent:
                    # libtorrent says finished once every piece has passed
                    # its hash check, which can be before its disk thread
                    # has written them all out: the test would then read a
                    # file with holes. Say finished once the cache is
                    # flushed.
                    finished_sent = True
                    h.flush_cache()
                elif args.seed and isinstance(a, lt.torrent_checked_alert) and not st.is_seeding:
                    emit({"event": "error",
                          "message": "seed data failed the hash check: have %d of %d pieces"
                          % (st.num_pieces, atp.ti.num_pieces())})
            elif isinstance(a, lt.cache_flushed_alert) and finished_sent and not flushed:
                flushed = True
                emit({"event": "finished"})
            elif isinstance(a, (lt.torrent_error_alert, lt.file_error_alert)):
                emit({"event": "error", "message": a.message()})
        while True:
            try:
                c = q.get_nowait()
            except queue.Empty:
                break
            if c is None or c.get("cmd") == "quit":
                ses.remove_torrent(h)
                return
            cmd = c.get("cmd")
            if cmd == "status":
                emit(status(h))
            elif cmd == "connect":
                h.connect_peer((c["ip"], int(c["port"])))
                emit({"event": "connected", "ip": c["ip"], "port": int(c["port"])})
            elif cmd == "reannounce":
                # Now, even within the tracker's min interval: the tests
                # reannounce to learn a peer that has just joined.
                h.force_reannounce(0, -1, lt.reannounce_flags_t.ignore_min_interval)
                emit({"event": "reannounced"})
            else:
                emit({"event": "error", "message": "unknown command %r" % (c,)})


if __name__ == "__main__":
    main()
