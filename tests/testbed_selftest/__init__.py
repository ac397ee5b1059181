"""Self-tests of the test bed's real-VPC parts (tests/testbed): the patched emulator, the seeded shapes, authdns,
the box's parts (on dnsmasq, authdns and unbound), the Lambda sandbox and the instance metadata stand-in.

Run time, measured on the 2-core machine while shared with other work (load average 7 to 9): this folder about
40 s wall for 17 s of CPU (user+sys, children included); tests/e2e/test_real_vpc.py (the failing-first tests of
issues 11 and 12) about 40 s wall for 18 s of CPU. Most of it is the CLI's and the emulator's Python start-up.
"""
