"""Boot-time shell commands for Amazon Linux 2023 instances."""

from __future__ import annotations

# At boot AL2023 may run a dnf job that holds the package lock while user data runs (aws-cdk issue 36717):
# an install then fails and, without a retry, the NAT or the CloudWatch agent is simply not there.
INSTALL_TRIES, INSTALL_PAUSE_SECONDS = 10, 15


def dnf_install(*packages: str) -> str:
    """``dnf install -y`` of ``packages``, retried while another dnf job holds the lock; fails after the last try."""
    names = " ".join(packages)
    return (f"for try in $(seq 1 {INSTALL_TRIES}); do dnf install -y {names} && break; "
            f"[ \"$try\" -eq {INSTALL_TRIES} ] && exit 1; sleep {INSTALL_PAUSE_SECONDS}; done")
