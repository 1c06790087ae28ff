# Docker Compose 1.29's `docker-compose -f A -f B config` for many projects
# in one process (1.29 takes ~0.5 s to start; the test asks it about dozens
# of projects). Same code path as the command: config.find, config.load
# (interpolation on), the service dicts config.load returns. Reads "dir<TAB>file<TAB>
# file..." lines on stdin, prints one JSON object per line: the merged
# configuration or {"error": message}. A line with a directory alone is
# `docker-compose config` run in that directory with no -f: the files come
# from COMPOSE_FILE (the .env there, split on COMPOSE_PATH_SEPARATOR) or
# the default names, as cli/command.py get_config_from_options finds them.
import json
import os
import sys

from compose.cli.command import get_config_path_from_options
from compose.config import config
from compose.config.environment import Environment
from compose.config.types import ServicePort, VolumeSpec


def plain(v):
    if isinstance(v, ServicePort):
        return {"target": str(v.target), "published": "" if v.published is None else str(v.published),
                "protocol": v.protocol or "tcp", "host_ip": v.external_ip or ""}
    if isinstance(v, VolumeSpec):
        return {"source": v.external or "", "target": v.internal, "read_only": v.mode == "ro"}
    if isinstance(v, dict):
        return {str(k): plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, set)):
        return [plain(x) for x in v]
    return v

for line in sys.stdin:
    parts = line.rstrip("\n").split("\t")
    if not parts[0]:
        continue
    d, files = parts[0], parts[1:]
    try:
        if not files:
            os.chdir(d)
            env = Environment.from_env_file(".")
            details = config.find(".", get_config_path_from_options({}, env), env)
        else:
            env = Environment.from_env_file(d)
            details = config.find(d, files, env)
        cfg = config.load(details, interpolate=True)
        print(json.dumps({"services": {s["name"]: plain(s) for s in cfg.services}}, default=str))
    except Exception as e:  # a project 1.29 refuses
        print(json.dumps({"error": str(e)}))
    sys.stdout.flush()
