"""Stand-in for ansible-test's pip bootstrap script, for machines that cannot reach
ci-files.testing.ansible.com (only package registries are reachable here).

ansible-test runs its cached ``get_pip_<version>.py`` inside every fresh sanity/units venv with
pip install arguments (``pip==24.2 setuptools==... wheel==...``). This stand-in installs pip with
the standard library's ``ensurepip`` and then lets that pip install the requested packages from
the package index. scripts/test.sh copies it to ~/.ansible/test/cache/ when no script is cached.
"""

import subprocess
import sys

subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"])
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet"] + args)
