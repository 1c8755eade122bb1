#!/bin/sh
echo "starting $1"
exec "$@"
