"""The exit codes a report's verdict maps to (Report.exit_code); vpc_verify.commands.exits adds the command
line's own and the text every --help shows."""

EXIT_HEALTHY, EXIT_UNHEALTHY, EXIT_CONTROL_PLANE_UNREAD = 0, 1, 4
