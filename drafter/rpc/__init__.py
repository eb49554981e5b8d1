"""The gRPC plumbing every Drafter service shares: server bootstrap, errors, channels."""
