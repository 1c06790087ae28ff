#!/usr/bin/env python3
"""Generates a corpus of realistic compose projects for bench/compose/run.sh.

Usage: gen.py DIR N [SEED]

Writes DIR/srv/p<i>/docker-compose.yml and docker-compose.override.yml (the
pair compose and bulwark's discovery pick up) and a .env, for N projects.
Each base file has 3 to 8 services drawn from a web/app/worker/db/cache
stack, an x- anchor merged into several services, interpolated images and
environment, ports, volumes, networks, healthchecks and deploy limits; the
override changes images, adds environment, ports and a privileged flag here
and there. Version "3.8" so that docker-compose 1.29 reads the same files.
"""
import os
import random
import sys

KINDS = [
    ("web", "nginx:${NGINX_TAG:-1.25-alpine}", ["80:80", "443:443"]),
    ("app", "registry.example.com/shop/app:${APP_TAG:-2.4.1}", ["127.0.0.1:8000:8000"]),
    ("worker", "registry.example.com/shop/worker:${APP_TAG:-2.4.1}", []),
    ("db", "postgres:16-alpine", ["127.0.0.1:5432:5432"]),
    ("cache", "redis:7.2", ["6379:6379"]),
    ("search", "elasticsearch:8.11.1", ["127.0.0.1:9200:9200"]),
    ("proxy", "traefik:v2.10", ["8080:8080"]),
    ("metrics", "prom/prometheus:v2.48.0", ["127.0.0.1:9090:9090"]),
]


def service(rng, name, image, ports, anchor):
    out = [f"  {name}:"]
    if anchor and rng.random() < 0.7:
        out.append("    <<: *hardening")
    out.append(f'    image: "{image}"')
    if rng.random() < 0.6:
        out.append('    user: "${APP_UID:-1000}:${APP_GID:-1000}"')
    out.append("    restart: unless-stopped")
    out.append("    environment:")
    for k in rng.sample(["LOG_LEVEL", "TZ", "DATABASE_URL", "REDIS_URL", "WORKERS", "FEATURE_X", "DB_PASSWORD"], 3):
        v = {"DATABASE_URL": "postgres://app:${DB_PASSWORD}@db:5432/app", "DB_PASSWORD": "${DB_PASSWORD}"}.get(k, "${" + k + ":-default}")
        out.append(f'      {k}: "{v}"')
    if ports:
        out.append("    ports:")
        out += [f'      - "{p}"' for p in ports]
    out.append("    volumes:")
    out.append(f"      - {name}-data:/var/lib/{name}")
    if rng.random() < 0.3:
        out.append("      - /etc/localtime:/etc/localtime:ro")
    out.append("    networks: [front, back]" if ports else "    networks: [back]")
    out.append("    healthcheck:")
    out.append('      test: ["CMD", "wget", "-q", "--spider", "http://localhost/health"]')
    out.append("      interval: 30s")
    out.append("    deploy:")
    out.append("      resources:")
    out.append(f'        limits: {{cpus: "{rng.choice(["0.5", "1", "2"])}", memory: {rng.choice(["256M", "512M", "1G"])}}}')
    out.append("    logging:")
    out.append("      driver: json-file")
    out.append('      options: {max-size: "10m", max-file: "3"}')
    return out, name


def project(rng):
    n = rng.randint(3, 8)
    kinds = rng.sample(KINDS, n)
    base = ['version: "3.8"', "", "x-hardening: &hardening", "  read_only: true",
            "  security_opt:", "    - no-new-privileges:true", "  cap_drop: [ALL]",
            "  tmpfs:", "    - /tmp:noexec,nosuid,size=64m", "", "services:"]
    names = []
    for kind, image, ports in kinds:
        lines, name = service(rng, kind, image, ports, True)
        base += lines
        names.append(name)
    base += ["", "networks:", "  front: {}", "  back:", "    internal: true", "", "volumes:"]
    base += [f"  {n}-data: {{}}" for n in names]
    over = ['version: "3.8"', "services:"]
    for n in rng.sample(names, min(len(names), rng.randint(1, 3))):
        over.append(f"  {n}:")
        over.append("    environment:")
        over.append('      LOG_LEVEL: "debug"')
        if rng.random() < 0.3:
            over.append("    privileged: true")
        if rng.random() < 0.5:
            over.append('    ports: ["127.0.0.1:9999:9999"]')
    return "\n".join(base) + "\n", "\n".join(over) + "\n"


def main():
    d, n = sys.argv[1], int(sys.argv[2])
    rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
    for i in range(n):
        p = os.path.join(d, "srv", f"p{i}")
        os.makedirs(p, exist_ok=True)
        b, o = project(rng)
        with open(os.path.join(p, "docker-compose.yml"), "w") as f:
            f.write(b)
        with open(os.path.join(p, "docker-compose.override.yml"), "w") as f:
            f.write(o)
        with open(os.path.join(p, ".env"), "w") as f:
            f.write("APP_TAG=2.4.2\nDB_PASSWORD=s3cr3t-%d\n" % i)


if __name__ == "__main__":
    main()
