"""The command line's exit codes, one place: the numbers and the text every command's --help shows."""

from __future__ import annotations

from vpc_verify.exit_codes import EXIT_CONTROL_PLANE_UNREAD, EXIT_HEALTHY, EXIT_UNHEALTHY

EXIT_USAGE, EXIT_INTERNAL, EXIT_AWS_UNREAD = 2, 3, EXIT_CONTROL_PLANE_UNREAD
__all__ = ["EXIT_AWS_UNREAD", "EXIT_CODES", "EXIT_HEALTHY", "EXIT_INTERNAL", "EXIT_UNHEALTHY", "EXIT_USAGE"]

EXIT_CODES = """\
exit codes:
  0  healthy
  1  unhealthy: an error finding about the VPC or its endpoints (wins over 4 when both apply)
  2  usage or configuration error (bad flags or topology, a --subnet-id or --security-group-id that is not
     the VPC's, an unknown id or region)
  3  internal error
  4  the VPC looked healthy but vpc-verify's own part with AWS failed: the control plane could not be read
     (AccessDenied, no credentials, throttled, no route to the EC2 API: AWS_API_ERROR, AWS_API_UNREACHABLE),
     so the comparison with AWS is missing; or the run's metrics could not be published (PUBLISH_FAILED)
"""
