"""The data plane, orchestrated: per endpoint, DNS for each of its names, then TCP -> TLS -> HTTP for each
address in scope, under two bounds and one deadline; frozen Observations out (vpc_verify.observe.sweep)."""
