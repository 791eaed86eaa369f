#!/bin/sh
# parlab's shell task, like the lecture's demo script: sleep, then report.
# usage: task.sh NAME UNITS UNIT_MS
# The sleep runs as a child the script waits for, so a TERM (sent when parlab
# stops, or when parlab dies, on Linux) takes the sleep down with the script.
name=$1
units=$2
unit_ms=$3
secs=$(awk "BEGIN { printf \"%.3f\", $units * $unit_ms / 1000 }")
sleep "$secs" &
pid=$!
trap 'kill $pid 2>/dev/null; exit 143' TERM HUP INT
wait $pid
echo "Task \"$name\" completed in $units units"
