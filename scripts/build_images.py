"""Build the product's images with podman: tfidf_svc, transformer_svc, agent, web_interface, mlflow.

  python scripts/build_images.py                      # all five, tagged localhost/callcenterai/<service>:dev
  python scripts/build_images.py agent --tag 1.4      # one image, another tag
  python scripts/build_images.py --no-cache           # a cold build: no layer cache, no pip cache
  python scripts/build_images.py --public-base        # the Dockerfiles' digest-pinned python base
  python scripts/build_images.py --base-only          # only the local Debian bases
  python scripts/build_images.py --lock               # regenerate services/*/requirements.lock

By default the images build on a local stand-in for python:3.11-slim made from Debian's
packages (mmdebstrap, then podman import), made once and kept: machines that reach no container
registry can still build. podman runs with deploy/containers.conf (CONTAINERS_CONF). Layers and
pip's downloads are cached between runs. Prints each image's build time and size.
"""

from __future__ import annotations

import subprocess
import sys
import time

from callcenterai.cli import parser_for, run
from callcenterai.config import PROJECT_ROOT
from callcenterai.errors import UserError
from callcenterai.images import SERVICES, BuildOptions, build_images, ensure_local_bases, lock_command


def write_locks(services: list[str]) -> None:
    for service in services:
        result = subprocess.run(lock_command(service), cwd=PROJECT_ROOT)
        if result.returncode != 0:
            raise UserError(f"pip-compile failed for {service} (pip-tools is in requirements-dev.txt)")
        print(f"services/{service}/requirements.lock written", file=sys.stderr)


def main(argv=None) -> int:
    parser = parser_for(__doc__)
    parser.add_argument(
        "services", nargs="*", metavar="SERVICE", help=f"of {', '.join(SERVICES)} (default: all)"
    )
    parser.add_argument("--tag", default="dev", help="image tag (default: dev)")
    parser.add_argument("--no-cache", action="store_true", help="a cold build: no layer or pip cache")
    parser.add_argument("--public-base", action="store_true", help="build on the Dockerfiles' own base")
    parser.add_argument("--base-only", action="store_true", help="make the local Debian bases only")
    parser.add_argument("--rebuild-base", action="store_true", help="remake the local Debian bases")
    parser.add_argument("--lock", action="store_true", help="regenerate the lock files, build nothing")
    parser.add_argument("--verbose", action="store_true", help="show podman's build output")
    args = parser.parse_args(argv)
    services = list(args.services) or list(SERVICES)
    unknown = sorted(set(services) - set(SERVICES))
    if unknown:
        raise UserError(f"no image named {', '.join(unknown)}: choose from {', '.join(SERVICES)}")
    if args.lock:
        write_locks(services)
        return 0
    if args.base_only or args.rebuild_base:
        ensure_local_bases(rebuild=args.rebuild_base)
        if args.base_only:
            return 0
    options = BuildOptions(args.tag, args.no_cache, not args.public_base, not args.verbose)
    started = time.monotonic()
    built = build_images(services, options)
    for image in built:
        print(f"{image.image:<48} {image.size_bytes / 1e6:8.0f} MB  built in {image.seconds:6.1f} s")
    print(f"{len(built)} image(s) in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
