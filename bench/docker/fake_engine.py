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


def chunked(status, ctype, body):
    """The whole response, rendered once: chunked as Go's net/http sends it."""
    data = body.encode()
    out = [b"HTTP/1.1 %s\r\nApi-Version: 1.41\r\nContent-Type: %s\r\n"
           b"Transfer-Encoding: chunked\r\n\r\n" % (status.encode(), ctype.encode())]
    for i in range(0, len(data), 4096):
        part = data[i:i + 4096]
        out.append(b"%x\r\n%s\r\n" % (len(part), part))
    out.append(b"0\r\n\r\n")
    return b"".join(out)


rendered = {path: chunked("200 OK", ctype, body) for path, (ctype, body) in routes.items()}
not_found = chunked("404 Not Found", "application/json", '{"message":"page not found"}')


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        req = b""
        while b"\r\n\r\n" not in req:
            part = self.request.recv(65536)
            if not part:
                return
            req += part
        target = req.split(b" ", 2)[1].decode()
        path = re.sub(r"^/v1\.\d+", "", target)
        if path.startswith("/containers/json"):
            path = "/containers/json?all=1"
        head = req.startswith(b"HEAD ")
        resp = rendered.get(path, not_found)
        if head:
            resp = resp.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
        try:
            self.request.sendall(resp)
        except OSError:
            pass


if os.path.exists(sock):
    os.unlink(sock)


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    request_queue_size = 128  # Go's net.Listen uses somaxconn; Python's default is 5


Server(sock, Handler).serve_forever()
