#!/bin/sh
set -eu
pg_dump -Fc lms | restic backup --stdin --stdin-filename lms.dump
restic forget --keep-daily 7 --keep-weekly 5 --prune
