#!/bin/sh
echo "args: $#: $1|$2"
echo "cwd: $(pwd)"
if [ "$1" = fail ]; then exit 3; fi
touch "$MARK"
