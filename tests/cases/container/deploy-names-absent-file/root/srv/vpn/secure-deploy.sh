#!/bin/bash
set -euo pipefail
docker stack deploy \
  --compose-file docker-compose.yml \
  --compose-file docker-compose.security.yml \
  vpn-stack
