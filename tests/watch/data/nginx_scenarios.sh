#!/bin/sh
# Drives a real nginx (Debian 12: 1.22) with basic auth through the client
# behaviours of issue 19, in a private network namespace (unshare -n, as
# root), and leaves its access.log and error.log in DIR:
#  - 3 x `git ls-remote` with the right password (git asks without
#    credentials first: a 401 challenge, then 200);
#  - 3 x `curl --anyauth` with the right password (the same challenge);
#  - 1 x `curl -u alice:wrong` (credentials sent at once: one failure);
#  - 1 x `curl --anyauth -u alice:wrong` (challenge, then one failure);
#  - 1 x `curl -u mallory:x` (an unknown user: one failure).
# The first two from 10.78.0.1 (legitimate), the others from 10.78.0.2.
# Usage: unshare -n sh nginx_scenarios.sh DIR
set -eu
T=$1
ip link set lo up
# The server and the legitimate clients on 10.78.0.1, the attacker on
# 10.78.0.2 (loopback sources are never banned).
ip addr add 10.78.0.1/32 dev lo
ip addr add 10.78.0.2/32 dev lo
mkdir -p "$T/www/repo.git" "$T/tmp"
printf 'alice:%s\n' "$(openssl passwd -apr1 right)" >"$T/htpasswd"
# A bare repository served by the dumb HTTP protocol.
git init -q "$T/src"
git -C "$T/src" -c user.name=t -c user.email=t@example.org commit -q --allow-empty -m init
git clone -q --bare "$T/src" "$T/www/repo.git"
git -C "$T/www/repo.git" update-server-info
cat >"$T/nginx.conf" <<C
user root;
worker_processes 1;
pid $T/nginx.pid;
error_log $T/error.log info;
events {}
http {
  access_log $T/access.log combined;
  client_body_temp_path $T/tmp; proxy_temp_path $T/tmp; fastcgi_temp_path $T/tmp;
  uwsgi_temp_path $T/tmp; scgi_temp_path $T/tmp;
  server {
    listen 10.78.0.1:8081;
    root $T/www;
    location / {
      auth_basic "git";
      auth_basic_user_file $T/htpasswd;
    }
  }
}
C
nginx -c "$T/nginx.conf" -p "$T"
sleep 0.5
for i in 1 2 3; do
  git -c credential.helper= ls-remote "http://alice:right@10.78.0.1:8081/repo.git" >/dev/null
done
for i in 1 2 3; do
  curl -sf -o /dev/null --anyauth -u alice:right http://10.78.0.1:8081/repo.git/HEAD
done
curl -s -o /dev/null --interface 10.78.0.2 -u alice:wrong http://10.78.0.1:8081/repo.git/HEAD
curl -s -o /dev/null --interface 10.78.0.2 --anyauth -u alice:wrong http://10.78.0.1:8081/repo.git/HEAD
curl -s -o /dev/null --interface 10.78.0.2 -u mallory:x http://10.78.0.1:8081/repo.git/HEAD
kill "$(cat "$T/nginx.pid")"
sleep 0.3
