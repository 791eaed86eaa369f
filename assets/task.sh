#!/bin/sh
# parlab's shell task, like the lecture's demo script: sleep, then report.
# usage: task.sh NAME UNITS UNIT_MS
name=$1
units=$2
unit_ms=$3
secs=$(awk "BEGIN { printf \"%.3f\", $units * $unit_ms / 1000 }")
sleep "$secs"
echo "Task \"$name\" completed in $units units"
