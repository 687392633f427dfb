#!/usr/bin/env python3
"""Drive libtorrent's Python binding for swarmlab's interop tests.

Every subcommand prints exactly one JSON object on stdout so the Go side can
decode it without scraping. Nothing here touches a network other than
127.0.0.1: the session is ltsession.py's loopback-only one, and torrents are
added with their trackers and web seeds overridden to empty and with
stop_when_ready so no announce can ever happen.

Subcommands:
  version                       libtorrent version
  info TORRENT                  what libtorrent reads from a .torrent
  create [--v1-only] [--piece-size N] [--tracker URL]... SRC OUT
                                make a torrent of SRC (file or directory)
  check TORRENT SAVE_PATH [--timeout S]
                                full hash check of the data under SAVE_PATH
"""

import argparse
import json
import os
import sys
import time

import libtorrent as lt

# Importing the module beside this script must not leave a __pycache__ in
# the source tree.
sys.dont_write_bytecode = True
from ltsession import loopback_session  # noqa: E402


def hex_v1(ti):
    """The v1 (SHA-1) info hash as hex, for libtorrent 1.x and 2.x alike."""
    if hasattr(ti, "info_hashes"):
        ih = ti.info_hashes()
        if ih.has_v1():
            return str(ih.v1)
        return ""
    return str(ti.info_hash())


def has_v2(ti):
    if hasattr(ti, "info_hashes"):
        return bool(ti.info_hashes().has_v2())
    return False


def cmd_version(_args):
    return {"version": lt.__version__}


def cmd_info(args):
    ti = lt.torrent_info(args.torrent)
    fs = ti.files()
    files = []
    for i in range(fs.num_files()):
        flags = fs.file_flags(i)
        files.append({
            # file_path includes the torrent's name as its first component
            # for multi-file torrents; "/" is used regardless of platform.
            "path": fs.file_path(i).replace(os.sep, "/"),
            "size": fs.file_size(i),
            "pad": bool(flags & lt.file_storage.flag_pad_file),
        })
    return {
        "info_hash_v1": hex_v1(ti),
        "has_v2": has_v2(ti),
        "name": ti.name(),
        "piece_length": ti.piece_length(),
        "num_pieces": ti.num_pieces(),
        "total_size": ti.total_size(),
        "num_files": fs.num_files(),
        "private": bool(ti.priv()),
        "trackers": [t.url for t in ti.trackers()],
        "web_seeds": [w["url"] for w in ti.web_seeds()],
        "comment": ti.comment(),
        "files": files,
    }


def cmd_create(args):
    src = os.path.abspath(args.src)
    fs = lt.file_storage()
    lt.add_files(fs, src)
    if fs.num_files() == 0:
        raise SystemExit("no files under " + src)
    flags = 0
    if args.v1_only:
        flags |= lt.create_torrent.v1_only
    t = lt.create_torrent(fs, args.piece_size, flags=flags)
    for tier, url in enumerate(args.tracker or []):
        t.add_tracker(url, tier)
    t.set_creator("swarmlab interop test")
    # set_piece_hashes wants the directory that *contains* src.
    lt.set_piece_hashes(t, os.path.dirname(src))
    data = lt.bencode(t.generate())
    with open(args.out, "wb") as f:
        f.write(data)
    info = cmd_info(argparse.Namespace(torrent=args.out))
    info["out"] = args.out
    return info


def cmd_check(args):
    ti = lt.torrent_info(args.torrent)
    ses = loopback_session(lt.alert.category_t.status_notification
                           | lt.alert.category_t.error_notification
                           | lt.alert.category_t.storage_notification)
    atp = lt.add_torrent_params()
    atp.ti = ti
    atp.save_path = os.path.abspath(args.save_path)
    # override_* with empty lists: libtorrent must not learn any tracker or
    # web seed from the torrent. stop_when_ready pauses the torrent the
    # moment checking ends, before it could try to reach a peer.
    atp.trackers = []
    atp.url_seeds = []
    atp.flags = (lt.torrent_flags.override_trackers
                 | lt.torrent_flags.override_web_seeds
                 | lt.torrent_flags.stop_when_ready
                 | lt.torrent_flags.disable_dht
                 | lt.torrent_flags.disable_lsd
                 | lt.torrent_flags.disable_pex)
    h = ses.add_torrent(atp)

    deadline = time.monotonic() + args.timeout
    checked = False
    errors = []
    while not checked:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            # A timeout is a failure, reported as such; the loop itself is
            # driven by alerts, not by the clock.
            st = h.status()
            return {"error": "timeout waiting for torrent_checked_alert",
                    "state": str(st.state), "errors": errors}
        ses.wait_for_alert(int(min(remaining, 1.0) * 1000))
        for a in ses.pop_alerts():
            if isinstance(a, lt.torrent_checked_alert):
                checked = True
            elif isinstance(a, (lt.torrent_error_alert, lt.file_error_alert,
                                lt.fastresume_rejected_alert)):
                errors.append(a.message())
            elif isinstance(a, lt.add_torrent_alert) and a.error.value():
                errors.append(a.message())

    st = h.status()
    pieces = list(st.pieces)
    missing = [i for i, have in enumerate(pieces) if not have]
    ses.remove_torrent(h)
    return {
        "info_hash_v1": hex_v1(ti),
        "num_pieces": ti.num_pieces(),
        "have": len(pieces) - len(missing),
        "missing": missing,
        "state": str(st.state),
        "errors": errors,
    }


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("version")
    pi = sub.add_parser("info")
    pi.add_argument("torrent")
    pc = sub.add_parser("create")
    pc.add_argument("--v1-only", action="store_true")
    pc.add_argument("--piece-size", type=int, default=0)
    pc.add_argument("--tracker", action="append")
    pc.add_argument("src")
    pc.add_argument("out")
    pk = sub.add_parser("check")
    pk.add_argument("torrent")
    pk.add_argument("save_path")
    pk.add_argument("--timeout", type=float, default=120.0)
    args = p.parse_args()
    fn = {"version": cmd_version, "info": cmd_info, "create": cmd_create,
          "check": cmd_check}[args.cmd]
    json.dump(fn(args), sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
