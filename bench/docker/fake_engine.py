#!/usr/bin/env python3
"""A recorded-response Docker Engine API on a unix socket, for the runtime
benchmark: N containers with a spread of risky and tidy settings, answered
chunked as dockerd (Go's net/http) answers. Paths may carry a /v1.NN prefix
(the docker CLI sends one) and /_ping answers OK, so the docker CLI can be
timed against the same server.

Usage: fake_engine.py SOCKET N
"""
import json
import os
import re
import socketserver
import sys
import time
from http.server import BaseHTTPRequestHandler

sock, n = sys.argv[1], int(sys.argv[2])
now = int(time.time())
img = "sha256:" + "a" * 64


def container(i):
    cid = "%064x" % (i + 1)
    risky = i % 3 == 0
    hc = {
        "Privileged": risky,
        "ReadonlyRootfs": not risky,
        "CapAdd": ["SYS_ADMIN"] if risky else None,
        "CapDrop": None if risky else ["ALL"],
        "SecurityOpt": ["seccomp=unconfined"] if risky else ["no-new-privileges"],
        "NetworkMode": "default",
        "PortBindings": {"%d/tcp" % (5000 + i): [{"HostIp": "" if risky else "127.0.0.1",
                                                   "HostPort": str(5000 + i)}]},
        "Memory": 0 if risky else 268435456,
        "NanoCpus": 0 if risky else 500000000,
        "PidsLimit": None if risky else 100,
        "RestartPolicy": {"Name": "unless-stopped", "MaximumRetryCount": 0},
        "Tmpfs": {"/tmp": "rw,noexec,nosuid,size=64m"},
    }
    mounts = [{"Type": "bind", "Source": "/var/run/docker.sock" if risky else "/srv/app%d" % i,
               "Destination": "/var/run/docker.sock" if risky else "/data", "RW": risky,
               "Propagation": "rprivate"}]
    return {
        "Id": cid, "Name": "/app-%d" % i, "Image": img, "State": {"Status": "running"},
        "Config": {"Image": "registry.example/app:1.%d" % i, "User": "" if risky else "1000:1000",
                   "Env": ["PATH=/usr/bin", "DB_PASSWORD=hunter%d" % i if risky else "DB_PASSWORD_FILE=/run/secrets/db"],
                   "Labels": {"com.docker.compose.project": "bench", "com.docker.compose.service": "app%d" % i},
                   "Healthcheck": {"Test": ["CMD", "/bin/true"]}},
        "HostConfig": hc, "Mounts": mounts,
        "NetworkSettings": {"Networks": {"bridge": {"IPAddress": "172.17.%d.%d" % (i // 250, i % 250 + 2)}}},
    }


containers = [container(i) for i in range(n)]
routes = {
    "/_ping": ("text/plain", "OK"),
    "/info": ("application/json", json.dumps({"Swarm": {"LocalNodeState": "inactive"},
                                              "ExperimentalBuild": False, "LiveRestoreEnabled": True,
                                              "RegistryConfig": {"InsecureRegistryCIDRs": ["127.0.0.0/8"]}})),
    "/containers/json?all=1": ("application/json", json.dumps(
        [{"Id": c["Id"], "Names": [c["Name"]]} for c in containers])),
    "/images/json": ("application/json", json.dumps([{"Id": img, "RepoTags": ["app:1"], "Created": now - 86400}])),
    "/networks": ("application/json", "[]"),
}
for c in containers:
    routes["/containers/%s/json" % c["Id"]] = ("application/json", json.dumps(c))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def address_string(self):
        return "unix"

    def log_message(self, *a):
        pass

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        path = re.sub(r"^/v1\.\d+", "", self.path)
        if path.startswith("/containers/json"):
            path = "/containers/json?all=1"
        ctype, body = routes.get(path, ("application/json", None))
        if body is None:
            body, status = '{"message":"page not found"}', 404
        else:
            status = 200
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Api-Version", "1.41")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        step = 4096
        for i in range(0, len(data), step):
            part = data[i:i + step]
            self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
        self.wfile.write(b"0\r\n\r\n")
        self.close_connection = True


if os.path.exists(sock):
    os.unlink(sock)


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


Server(sock, Handler).serve_forever()
