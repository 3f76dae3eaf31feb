"""Run a command under an address-space limit and write its true peak resident memory.

Usage: python tests/peak_rss.py LIMIT_BYTES RESULT_JSON -- COMMAND...

Why a launcher of its own: Linux counts in a child's `ru_maxrss` the resident memory of the
process it was forked from (fork copies the parent's page tables, exec keeps the high-water
mark). Forked from pytest, `sohoa` was charged pytest's own size: 361-429 MiB when the bomb file
ran alone, 552/659 MiB late in the whole suite. Started from this small process instead, the
command is charged only the ~10 MiB of an idle Python, and the number is what `sohoa` used.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    limit, result_path, separator, *command = argv
    if separator != "--" or not command:
        raise SystemExit(__doc__)
    resource.setrlimit(resource.RLIMIT_AS, (int(limit), int(limit)))
    proc = subprocess.Popen(command)
    _, status, usage = os.wait4(proc.pid, 0)  # the command and the processes it waited for
    measured = {"returncode": os.waitstatus_to_exitcode(status), "maxrss_kib": usage.ru_maxrss}
    Path(result_path).write_text(json.dumps(measured))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
