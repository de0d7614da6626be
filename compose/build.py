"""Build the stack's images locally, FROM the fleet image of scripts/wk_images.py (no registry, no download).

    python compose/build.py [--tag local] [--force]     # builds (or reuses) every image, prints JSON
    python compose/build.py --names                     # the image names only

Images: ``watchkeeper/stack-<name>:<tag>`` for each directory of ``compose/images`` (app, nginx, postgres, redis,
backup). The Dockerfiles add files only (everything they run is in the fleet image), so the build needs no network
(``--network none``). Each image carries the label ``wk.inputs``: a digest of the fleet image's id and of the
build context (for ``backup`` that includes the collection's ``plugins/``, ``meta/`` and ``galaxy.yml``; for
``nginx`` the maintenance snippet of ``roles/maintenance``); an image whose label matches is reused.
"""

import argparse
import fcntl
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "scripts"))

import wk_engine  # noqa: E402  pylint: disable=wrong-import-position
import wk_images  # noqa: E402  pylint: disable=wrong-import-position

IMAGES = ["app", "nginx", "postgres", "redis", "backup"]
SNIPPET = os.path.join(ROOT, "roles", "maintenance", "files", "nginx", "watchkeeper-maintenance.conf")
COLLECTION_PARTS = ["galaxy.yml", "meta", "plugins"]


def image_name(name, tag="local"):
    return "watchkeeper/stack-%s:%s" % (name, tag)


def _copy_tree(src, dst):
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


def _context(name, ctx):
    """Fill ``ctx`` with the build context of image ``name``."""
    source = os.path.join(HERE, "images", name)
    for entry in os.listdir(source):
        if os.path.isfile(os.path.join(source, entry)) and not entry.endswith(".pyc"):
            shutil.copy2(os.path.join(source, entry), ctx)
    if name == "nginx":
        shutil.copy2(SNIPPET, ctx)
    if name == "backup":
        for part in COLLECTION_PARTS:
            src = os.path.join(ROOT, part)
            if os.path.isdir(src):
                _copy_tree(src, os.path.join(ctx, "collection", part))
            else:
                os.makedirs(os.path.join(ctx, "collection"), exist_ok=True)
                shutil.copy2(src, os.path.join(ctx, "collection", part))


def _tree_digest(path):
    sha = hashlib.sha256()
    for base, dirs, files in sorted(os.walk(path)):
        dirs.sort()
        for name in sorted(files):
            full = os.path.join(base, name)
            sha.update(os.path.relpath(full, path).encode() + b"\0")
            sha.update(oct(os.stat(full).st_mode & 0o777).encode())
            with open(full, "rb") as handle:
                sha.update(hashlib.sha256(handle.read()).digest())
    return sha.hexdigest()[:16]


def _image_id(docker_host, image):
    res = wk_engine.run_docker(["image", "inspect", "--format", "{{.Id}}", image], docker_host, capture_output=True,
                               text=True)
    return res.stdout.strip() if res.returncode == 0 else None


def _label(docker_host, image):
    res = wk_engine.run_docker(["image", "inspect", "--format", '{{ index .Config.Labels "wk.inputs" }}', image],
                               docker_host, capture_output=True, text=True)
    return res.stdout.strip() if res.returncode == 0 else None


def build(tag="local", force=False, docker_host=None, base=None, log=print):
    """Build or reuse every image; returns {name: {image, built, seconds}} plus the base image used."""
    docker_host = docker_host or wk_engine.ensure()
    base = base or wk_images.build(docker_host=docker_host, log=log)["fleet"]
    base_id = _image_id(docker_host, base)
    os.makedirs(wk_engine.STATE, exist_ok=True)
    report = {"base": base}
    with open(os.path.join(wk_engine.STATE, "stack-images.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for name in IMAGES:
            image = image_name(name, tag)
            t0 = time.monotonic()
            with tempfile.TemporaryDirectory(prefix="wk-stack-%s-" % name) as ctx:
                _context(name, ctx)
                inputs = hashlib.sha256(("%s %s" % (base_id, _tree_digest(ctx))).encode()).hexdigest()[:16]
                built = force or _label(docker_host, image) != inputs
                if built:
                    log("building %s" % image)
                    res = wk_engine.run_docker(["build", "--network", "none", "--label", "wk.inputs=%s" % inputs,
                                                "--build-arg", "BASE=%s" % base, "-t", image, ctx], docker_host,
                                               capture_output=True, text=True, env_extra={"DOCKER_BUILDKIT": "0"})
                    if res.returncode != 0:
                        raise RuntimeError("building %s failed:\n%s" % (image, (res.stdout + res.stderr)[-4000:]))
            report[name] = {"image": image, "built": built, "seconds": round(time.monotonic() - t0, 1)}
    return report


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--tag", default="local", help="the images' tag (default local)")
    parser.add_argument("--force", action="store_true", help="rebuild even when the inputs did not change")
    parser.add_argument("--names", action="store_true", help="print the image names and exit")
    args = parser.parse_args(argv)
    if args.names:
        print(json.dumps(dict((n, image_name(n, args.tag)) for n in IMAGES)))
        return 0
    print(json.dumps(build(args.tag, args.force, log=lambda msg: print("==> " + msg, file=sys.stderr, flush=True))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
