#!/usr/bin/env python3
# A minimal /dev/log for sshd_scenarios.sh: receives syslog(3) datagrams
# ("<PRI>Mmm dd hh:mm:ss TAG[PID]: MSG") and appends them to a file in
# rsyslog's traditional format ("Mmm dd hh:mm:ss HOST TAG[PID]: MSG"),
# the format of Debian's /var/log/auth.log.
import os, re, signal, socket, sys

path, out, host = sys.argv[1], sys.argv[2], sys.argv[3]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
try:
    os.unlink(path)
except FileNotFoundError:
    pass
s.bind(path)
os.chmod(path, 0o666)
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
with open(out, "ab", buffering=0) as f:
    while True:
        d = s.recv(65536).rstrip(b"\n\0")
        m = re.match(rb"<\d+>([A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d) (.*)", d, re.S)
        if m:
            f.write(m.group(1) + b" " + host.encode() + b" " + m.group(2) + b"\n")
