#!/usr/bin/env python3
"""Generates a reproducible Debian 12 style /var/log/auth.log for the watch
benchmark (bench/watch/run.sh): rsyslog's traditional format, sshd (OpenSSH
9.2) failures and successes, sudo and cron lines.

Usage: gen-authlog.py [--lines N] [--seed S] > auth.log
"""
import argparse
import random
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=8)
    a = ap.parse_args()
    rnd = random.Random(a.seed)

    # 4000 attackers (a tenth IPv6), 50 legitimate clients.
    attackers = []
    for i in range(4000):
        if i % 10 == 0:
            attackers.append("2001:db8:%x:%x::%x" % (rnd.randrange(65536), rnd.randrange(65536),
                                                     rnd.randrange(1, 65536)))
        else:
            attackers.append("%d.%d.%d.%d" % (rnd.randrange(1, 224), rnd.randrange(256),
                                              rnd.randrange(256), rnd.randrange(1, 255)))
    clients = ["10.20.%d.%d" % (rnd.randrange(256), rnd.randrange(1, 255)) for _ in range(50)]
    users = ["admin", "test", "oracle", "ubuntu", "postgres", "git", "user", "pi", "guest",
             "ftpuser", "support", "deploy1", "www", "minecraft", "hadoop"]
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    # Starts 30 April 2024 22:00 and crosses into May.
    t = (29 * 24 + 22) * 3600.0
    out = sys.stdout
    buf = []
    pid = 20000
    for _ in range(a.lines):
        t += rnd.expovariate(1 / 0.08)
        day = int(t // 86400)
        mon = 3 if day < 30 else 4
        dom = day + 1 if day < 30 else day - 29
        s = int(t % 86400)
        stamp = "%s %2d %02d:%02d:%02d bastion " % (months[mon], dom, s // 3600, s // 60 % 60,
                                                      s % 60)
        r = rnd.random()
        if r < 0.42:
            ip = attackers[int(rnd.paretovariate(1.2)) % len(attackers)]
            port = rnd.randrange(1024, 65536)
            u = rnd.choice(users)
            pid += 1
            k = rnd.random()
            if k < 0.35:
                m = "Failed password for root from %s port %d ssh2" % (ip, port)
            elif k < 0.55:
                m = "Failed password for invalid user %s from %s port %d ssh2" % (u, ip, port)
            elif k < 0.70:
                m = "Invalid user %s from %s port %d" % (u, ip, port)
            elif k < 0.80:
                m = "Connection closed by invalid user %s %s port %d [preauth]" % (u, ip, port)
            elif k < 0.88:
                m = ("pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh "
                     "ruser= rhost=%s  user=root" % ip)
            elif k < 0.94:
                m = ("error: maximum authentication attempts exceeded for root from %s port %d "
                     "ssh2 [preauth]" % (ip, port))
            else:
                m = "Received disconnect from %s port %d:11: Bye Bye [preauth]" % (ip, port)
            line = "%ssshd[%d]: %s" % (stamp, pid, m)
        elif r < 0.55:
            ip = rnd.choice(clients)
            port = rnd.randrange(1024, 65536)
            pid += 1
            k = rnd.random()
            if k < 0.3:
                m = ("Accepted publickey for deploy from %s port %d ssh2: ED25519 "
                     "SHA256:9Bq1sTzKxQm4hH3r0oKkGm1c4J3gP0sVb0Q2w0mX3kE" % (ip, port))
            elif k < 0.6:
                m = "pam_unix(sshd:session): session opened for user deploy(uid=1000) by (uid=0)"
            elif k < 0.8:
                m = "Received disconnect from %s port %d:11: disconnected by user" % (ip, port)
            else:
                m = "Disconnected from user deploy %s port %d" % (ip, port)
            line = "%ssshd[%d]: %s" % (stamp, pid, m)
        elif r < 0.67:
            k = rnd.random()
            if k < 0.5:
                m = ("    deploy : TTY=pts/0 ; PWD=/home/deploy ; USER=root ; "
                     "COMMAND=/usr/bin/systemctl restart nginx")
                line = "%ssudo: %s" % (stamp, m)
            elif k < 0.9:
                line = ("%ssudo: pam_unix(sudo:session): session opened for user root(uid=0) by "
                        "deploy(uid=1000)" % stamp)
            elif k < 0.95:
                line = ("%ssudo:   intern : user NOT in sudoers ; TTY=pts/1 ; PWD=/home/intern ; "
                        "USER=root ; COMMAND=/bin/bash" % stamp)
            else:
                line = ("%ssudo:   deploy : 3 incorrect password attempts ; TTY=pts/0 ; "
                        "PWD=/home/deploy ; USER=root ; COMMAND=/usr/bin/apt upgrade" % stamp)
        elif r < 0.95:
            pid += 1
            if rnd.random() < 0.5:
                line = ("%sCRON[%d]: pam_unix(cron:session): session opened for user root(uid=0) "
                        "by (uid=0)" % (stamp, pid))
            else:
                line = "%sCRON[%d]: pam_unix(cron:session): session closed for user root" % (
                    stamp, pid)
        else:
            line = ("%ssystemd-logind[612]: New session %d of user deploy." % (stamp, pid))
        buf.append(line)
        if len(buf) >= 10000:
            out.write("\n".join(buf) + "\n")
            buf = []
    if buf:
        out.write("\n".join(buf) + "\n")


if __name__ == "__main__":
    main()
