#!/usr/bin/env bash
# The demo, run inside the box by scripts/demo: validate, check (the table), publish, read the metrics back.
set -uo pipefail
vv=".venv/bin/vpc-verify"
echo "== vpc-verify validate"
$vv validate "$VPCBOX_TOPOLOGY"
echo
echo "== vpc-verify check --publish cloudwatch   (topology: $VPCBOX_TOPOLOGY)"
$vv check -t "$VPCBOX_TOPOLOGY" --publish cloudwatch --log-level warning
code=$?
echo
echo "exit code $code (0 healthy, 1 unhealthy, 2 bad input)"
echo "expected finding codes per endpoint, by construction of the box: $VPCBOX_EXPECTED"
.venv/bin/python -m tests.demo.readback VpcVerify || exit 1
[ "$code" -eq 1 ]
