#!/usr/bin/env python3
"""Generates the auth.log of a distributed brute force for
bench/watch/attack.sh: N attacking sources (a tenth IPv6, each its own /64)
make 3 password attempts each, as OpenSSH 9.2 logs them through rsyslog
(pam_unix, Failed password, the preauth close: three lines, one attempt),
interleaved with legitimate users: key logins, and passwords mistyped once
or twice before the right one (never 3 times: none of them may be banned).
All within the last 5 minutes (the default findtime is 10 minutes).

Writes the log to stdout, the attacking sources (one per line, as bulwark
prints them: ADDR/32 or PREFIX/64) to --attackers, the legitimate ones to
--legit.

Usage: gen-attack.py --sources N [--legit-clients M] --attackers F --legit F > auth.log
"""
import argparse
import random
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sources", type=int, default=100_000)
    ap.add_argument("--legit-clients", type=int, default=2_000)
    ap.add_argument("--attackers", required=True)
    ap.add_argument("--legit", required=True)
    ap.add_argument("--seed", type=int, default=19)
    a = ap.parse_args()
    rnd = random.Random(a.seed)

    attackers = []
    for i in range(a.sources):
        if i % 10 == 9:
            attackers.append(("2001:db8:%x:%x::%x" % (i >> 16, i & 0xffff, rnd.randrange(1, 65536)),
                              "2001:db8:%x:%x::/64" % (i >> 16, i & 0xffff)))
        else:
            ip = "198.%d.%d.%d" % (18 + (i >> 16), i >> 8 & 255, i & 255)
            attackers.append((ip, ip + "/32"))
    legit = ["10.%d.%d.%d" % (i // 62500, i // 250 % 250, i % 250 + 1)
             for i in range(a.legit_clients)]
    with open(a.attackers, "w") as f:
        f.writelines(p + "\n" for _, p in attackers)
    with open(a.legit, "w") as f:
        f.writelines(ip + "/32\n" for ip in legit)

    # Events: (offset in seconds, kind, source). An attacker's 3 attempts
    # fall within 60 s; a legitimate client fails at most twice.
    span = 300
    ev = []
    for ip, _ in attackers:
        t = rnd.uniform(0, span - 60)
        for k in range(3):
            ev.append((t + k * rnd.uniform(1, 20), "fail", ip))
    for ip in legit:
        t = rnd.uniform(0, span - 30)
        misses = rnd.choice((0, 0, 1, 2))
        for k in range(misses):
            ev.append((t + k, "miss", ip))
        ev.append((t + misses + 1, "password" if misses else "publickey", ip))
    ev.sort()
    start = int(time.time()) - span
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    out = []
    pid = 100000
    users = ["root", "admin", "oracle", "ubuntu", "test"]
    for off, kind, ip in ev:
        tm = time.gmtime(start + int(off))  # bulwark reads zone-less times as UTC
        stamp = "%s %2d %02d:%02d:%02d bastion " % (months[tm.tm_mon - 1], tm.tm_mday,
                                                      tm.tm_hour, tm.tm_min, tm.tm_sec)
        pid += 1
        port = rnd.randrange(1024, 65536)
        if kind == "fail":
            u = rnd.choice(users)
            out.append(stamp + "sshd[%d]: pam_unix(sshd:auth): authentication failure; logname= "
                       "uid=0 euid=0 tty=ssh ruser= rhost=%s  user=%s\n" % (pid, ip, u))
            out.append(stamp + "sshd[%d]: Failed password for %s from %s port %d ssh2\n"
                       % (pid, u, ip, port))
            out.append(stamp + "sshd[%d]: Connection closed by authenticating user %s %s port %d "
                       "[preauth]\n" % (pid, u, ip, port))
        elif kind == "miss":
            out.append(stamp + "sshd[%d]: pam_unix(sshd:auth): authentication failure; logname= "
                       "uid=0 euid=0 tty=ssh ruser= rhost=%s  user=alice\n" % (pid, ip))
            out.append(stamp + "sshd[%d]: Failed password for alice from %s port %d ssh2\n"
                       % (pid, ip, port))
            out.append(stamp + "sshd[%d]: Connection closed by authenticating user alice %s port "
                       "%d [preauth]\n" % (pid, ip, port))
        else:
            out.append(stamp + "sshd[%d]: Accepted %s for alice from %s port %d ssh2%s\n"
                       % (pid, kind, ip, port,
                          ": ED25519 SHA256:Zq1bTm0aVvC5QY8o2N3pS0Vh3Yc0a8P6dQ5m9r7xT1k"
                          if kind == "publickey" else ""))
            out.append(stamp + "sshd[%d]: pam_unix(sshd:session): session opened for user "
                       "alice(uid=1000) by (uid=0)\n" % pid)
    sys.stdout.writelines(out)


if __name__ == "__main__":
    main()
