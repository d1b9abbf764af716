"""python -m etcdlab.view [--seed S] [--nodes N] [--port P] [--host H] [--trace FILE]
[--members URL,URL,...] [--open]

Serves the live cluster view (etcdlab/view/server.py): a simulated cluster by default, a
recording with --trace, real members with --members. The first line printed is the page's URL
(``etcdlab view: http://127.0.0.1:PORT/``); --port 0 picks a free port. Ctrl-C stops it.
"""

from __future__ import annotations

import argparse
import sys
import webbrowser

from .server import MembersSource, SimSource, TraceSource, ViewServer


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="etcdlab-view", description=__doc__.split("\n\n")[1])
    p.add_argument("--seed", type=int, default=1, help="the simulated cluster's seed (1)")
    p.add_argument("--nodes", type=int, default=5, help="its number of nodes, 1 .. 64 (5)")
    p.add_argument("--port", type=int, default=8090, help="0 picks a free port (8090)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--trace", metavar="FILE", help="replay a recording instead")
    p.add_argument("--members", metavar="URLS",
                   help="view real members (started with --enable-view): client URLs, "
                        "separated by commas")
    p.add_argument("--open", action="store_true", help="open the page in a browser")
    args = p.parse_args(argv)
    if args.trace and args.members:
        p.error("--trace and --members are two different sources: give one")
    try:
        if args.trace:
            source = TraceSource.load(args.trace)
        elif args.members:
            source = MembersSource([u.strip() for u in args.members.split(",") if u.strip()])
        else:
            if not 1 <= args.nodes <= 64:
                p.error(f"--nodes is 1 .. 64, not {args.nodes}")
            if args.seed < 0:
                p.error(f"--seed is a number >= 0, not {args.seed}")
            source = SimSource(seed=args.seed, nodes=args.nodes)
    except ValueError as e:
        print(f"etcdlab view: {e}", file=sys.stderr)
        return 2
    try:
        server = ViewServer(source, args.host, args.port)
    except OSError as e:
        print(f"etcdlab view: cannot listen on {args.host}:{args.port}: {e}", file=sys.stderr)
        return 2
    print(f"etcdlab view: {server.url}", flush=True)
    if args.open:
        webbrowser.open(server.url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
