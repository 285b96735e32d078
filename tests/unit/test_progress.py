"""Long command-line work shows its progress on a terminal, and nothing in pipes and logs."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios

SCRIPT = ("from ticketflow.infra import progress\n"
          "assert sum(progress.bar(range(50), desc='folds', unit='fold')) == 1225\n")


def test_a_bar_is_drawn_on_a_terminal_only() -> None:
    piped = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                           timeout=60)
    assert piped.returncode == 0 and piped.stderr == "", piped.stderr

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))  # a real size
    on_terminal = subprocess.run([sys.executable, "-c", SCRIPT], stderr=follower, timeout=60)
    os.close(follower)
    drawn = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        drawn += chunk
    os.close(leader)
    assert on_terminal.returncode == 0
    assert b"folds:" in drawn and b"/50" in drawn, drawn
