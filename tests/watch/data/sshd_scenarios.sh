#!/bin/sh
# Drives a real OpenSSH sshd (Debian 12: 9.2) through the login scenarios of
# issue 19 and writes what it logged, in rsyslog's traditional file format,
# to $1/auth.log. Runs in private mount and network namespaces (unshare
# -mn, as root): /etc/passwd and /etc/shadow are replaced by a test user's
# (alice, password "right"), /dev/log is a socket of this script's own
# (PAM modules log through syslog(3), not sshd's -E), sshd listens on the
# namespace's loopback addresses 10.77.0.1 and the clients bind one source
# address per scenario (10.77.0.11 ...), so each scenario's source is its own.
# Usage: unshare -mn sh sshd_scenarios.sh DIR
set -eu
T=$1
H=$(dirname "$0")
mkdir -p "$T/olddev" "$T/home/alice/.ssh"
mount --rbind /dev "$T/olddev"
mount -t tmpfs -o mode=755 tmpfs /dev
for n in null zero full random urandom tty; do touch /dev/$n; mount --bind "$T/olddev/$n" /dev/$n; done
mkdir /dev/pts /dev/shm
mount --rbind "$T/olddev/pts" /dev/pts
ln -s pts/ptmx /dev/ptmx
ln -s /proc/self/fd /dev/fd

hash=$(openssl passwd -6 -salt bulwarktest right)
cat >"$T/passwd" <<P
root:x:0:0:root:/root:/bin/sh
sshd:x:100:65534::/run/sshd:/usr/sbin/nologin
alice:x:1000:1000::$T/home/alice:/bin/sh
P
cat >"$T/shadow" <<P
root:*:19000:0:99999:7:::
sshd:*:19000:0:99999:7:::
alice:$hash:19000:0:99999:7:::
P
printf 'root:x:0:\nnogroup:x:65534:\nalice:x:1000:\n' >"$T/group"
chmod 640 "$T/shadow"
# A copy of /etc over /etc, not files bound over /etc/passwd: a rename over
# a mount point in another namespace (useradd on the host) removes the mount.
cp -a /etc "$T/etc"
cp "$T/passwd" "$T/etc/passwd"; cp "$T/shadow" "$T/etc/shadow"; cp "$T/group" "$T/etc/group"
rm -f "$T/etc/gshadow"
# pam_unix waits about 2 s after each failure (pam_fail_delay) unless told
# `nodelay`: 17 wrong passwords were half a minute of the test's time. The
# delay changes no line sshd or PAM logs.
sed -i '/^auth.*pam_unix\.so/s/$/ nodelay/' "$T/etc/pam.d/common-auth"
grep -q '^auth.*pam_unix\.so.* nodelay$' "$T/etc/pam.d/common-auth"
mount --bind "$T/etc" /etc
mkdir -p /run/sshd

ip link set lo up
for h in 1 11 12 13 14 15 16 17 18 19 20 21; do ip addr add 10.77.0.$h/32 dev lo; done

ssh-keygen -q -t ed25519 -N '' -f "$T/hostkey"
ssh-keygen -q -t ed25519 -N '' -f "$T/alicekey"
ssh-keygen -q -t ed25519 -N '' -f "$T/otherkey"
cp "$T/alicekey.pub" "$T/home/alice/.ssh/authorized_keys"
chown -R 1000:1000 "$T/home/alice"
chmod 755 "$T" "$T/home" 2>/dev/null || true
chmod 700 "$T/home/alice/.ssh"

/usr/bin/python3 "$H/syslog_sink.py" /dev/log "$T/auth.log" bwhost &
SINK=$!
i=0; while [ ! -S /dev/log ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done

cat >"$T/sshd_config" <<C
ListenAddress 10.77.0.1:2222
HostKey $T/hostkey
PidFile $T/sshd.pid
UsePAM yes
PasswordAuthentication yes
KbdInteractiveAuthentication yes
PubkeyAuthentication yes
MaxAuthTries 6
StrictModes no
SyslogFacility AUTH
LogLevel INFO
C
/usr/sbin/sshd -f "$T/sshd_config"
# Listening (not a fixed pause): the first scenario's client must not find
# the port closed.
i=0; while ! ss -Hltn 'sport = :2222' | grep -q . && [ $i -lt 200 ]; do sleep 0.02; i=$((i+1)); done
until [ -s "$T/sshd.pid" ] || [ $i -ge 200 ]; do sleep 0.02; i=$((i+1)); done

SSH="ssh -p 2222 -F /dev/null -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=5 -o LogLevel=ERROR"
pw() { # pw SRC USER PASSWORD [ssh options...]
  src=$1 user=$2 p=$3; shift 3
  sshpass -p "$p" $SSH -b "$src" -o PubkeyAuthentication=no -o PreferredAuthentications=password -o NumberOfPasswordPrompts=1 "$@" "$user@10.77.0.1" true </dev/null >/dev/null 2>&1 || true
}
kbd() { # kbd SRC USER PASSWORD
  sshpass -p "$3" $SSH -b "$1" -o PubkeyAuthentication=no -o PreferredAuthentications=keyboard-interactive -o NumberOfPasswordPrompts=1 "$2@10.77.0.1" true </dev/null >/dev/null 2>&1 || true
}
key() { # key SRC USER KEYFILE
  $SSH -b "$1" -o BatchMode=yes -o IdentitiesOnly=yes -i "$3" "$2@10.77.0.1" true </dev/null >/dev/null 2>&1 || true
}
# A scenario's lines all come before the next marker: sshd logs a
# connection's last lines (the preauth close, an invalid user's probe) after
# the client has gone, from the connection's own process, so each marker
# waits until the listener has no connection process left.
settle() {
  i=0; while pgrep -P "$(cat "$T/sshd.pid")" >/dev/null && [ $i -lt 250 ]; do sleep 0.02; i=$((i+1)); done
}
mark() { settle; logger -u /dev/log -t bulwark-test "scenario $1"; }

mark "11 one wrong password"
pw 10.77.0.11 alice wrong
mark "12 invalid user, one wrong password"
pw 10.77.0.12 mallory wrong
mark "13 keyboard-interactive, one wrong password"
kbd 10.77.0.13 alice wrong
mark "14 BatchMode with a key that is not authorized"
key 10.77.0.14 alice "$T/otherkey"
mark "15 invalid user, no password tried"
key 10.77.0.15 mallory "$T/otherkey"
# sshpass gives up at a second prompt: several passwords in one connection
# come from SSH_ASKPASS.
printf '#!/bin/sh\necho wrong\n' >"$T/askpass"; chmod 755 "$T/askpass"
multi() { # multi SRC USER N
  SSH_ASKPASS="$T/askpass" SSH_ASKPASS_REQUIRE=force DISPLAY=:0 setsid $SSH -b "$1" -o PubkeyAuthentication=no -o PreferredAuthentications=password -o NumberOfPasswordPrompts="$3" "$2@10.77.0.1" true </dev/null >/dev/null 2>&1 || true
}
mark "16 three wrong passwords in one connection"
multi 10.77.0.16 alice 3
mark "17 seven wrong passwords: maximum authentication attempts exceeded"
multi 10.77.0.17 alice 7
mark "18 right password three times"
pw 10.77.0.18 alice right; pw 10.77.0.18 alice right; pw 10.77.0.18 alice right
mark "19 right key three times"
key 10.77.0.19 alice "$T/alicekey"; key 10.77.0.19 alice "$T/alicekey"; key 10.77.0.19 alice "$T/alicekey"
mark "20 three connections, one wrong password each"
pw 10.77.0.20 alice wrong; pw 10.77.0.20 alice wrong; pw 10.77.0.20 alice wrong
mark "21 two wrong passwords, then the right one"
pw 10.77.0.21 alice wrong; pw 10.77.0.21 alice wrong; pw 10.77.0.21 alice right
mark end
i=0; until grep -q "scenario end" "$T/auth.log" || [ $i -ge 250 ]; do sleep 0.02; i=$((i+1)); done
kill "$(cat "$T/sshd.pid")" 2>/dev/null || true
kill $SINK
wait $SINK 2>/dev/null || true
