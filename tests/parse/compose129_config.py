# Docker Compose 1.29's `docker-compose -f A -f B config` for many projects
# in one process (1.29 takes ~0.5 s to start; the test asks it about dozens
# of projects). Same code path as the command: config.find, config.load
# (interpolation on), the service dicts config.load returns. Reads "dir<TAB>file<TAB>
# file..." lines on stdin, prints one JSON object per line: the merged
# configuration or {"error": message}.
import json
import sys

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
    if len(parts) < 2:
        continue
    d, files = parts[0], parts[1:]
    try:
        env = Environment.from_env_file(d)
        details = config.find(d, files, env)
        cfg = config.load(details, interpolate=True)
        print(json.dumps({"services": {s["name"]: plain(s) for s in cfg.services}}, default=str))
    except Exception as e:  # a project 1.29 refuses
        print(json.dumps({"error": str(e)}))
    sys.stdout.flush()
